"""Spanish cues. Accents are optional where people often drop them (añade/anade, qué/que after ¿). Words that are
spelled the same in English with the same meaning ("describe", "animate") are left to the English lexicon, so
that an English request is not counted twice."""

from __future__ import annotations

from unison_agent.planning.lexicon import Cue, Lexicon, words

IMAGE_NOUNS = r"imagen(?:es)?|fotos?|fotograf[íi]as?|dibujos?|ilustraci[óo]n(?:es)?|pinturas?|cuadros?|carteles?"
VIDEO_NOUNS = r"v[íi]deos?|animaci[óo]n(?:es)?|pel[íi]culas?|cortometrajes?"
_DET = r"(?:el|la|los|las|un|una|unos|unas|este|esta|estos|estas|ese|esa|mi|mis|tu|su|sus)"

CUES: dict[str, tuple[Cue, ...]] = {
    "question": (
        Cue(
            r"^\W*(?:qu[ée]|cu[áa]l|cu[áa]les|qui[ée]n|qui[ée]nes|por qu[ée]|c[óo]mo|d[óo]nde|cu[áa]ndo|cu[áa]nto|"
            r"cu[áa]nta|cu[áa]ntos|cu[áa]ntas)\b(?=[^.!]*\?|\s+(?:es|son|hay|est[áa]n?|significa|pasa|aparece)\b)",
            2.0,
            ("¿qué hay en esta imagen?", "¿cuál es la capital de australia?", "dónde está esto"),
            ("que el cielo sea morado", "como un cuadro de van gogh"),
        ),
        Cue(r"¿", 2.0, ("¿es real esta foto?", "oye, ¿quién pintó esto?")),
        Cue(
            words(r"me pregunto", r"quiero saber", r"sabes si", r"tienes idea"),
            1.5,
            ("quiero saber qué planta es", "me pregunto si está editada"),
        ),
    ),
    "answer_verb": (
        Cue(
            r"(?:^|[.!?:]\s*|\b(?:puedes|podr[íi]as|por favor|solo)\s+)"
            + words(
                r"descr[íi]be(?:me|la|lo)",
                r"descríbe",
                r"expl[íi]ca(?:me)?",
                r"res[úu]me(?:me)?",
                r"resumir",
                r"traduce",
                r"transcribe",
                r"cuenta",
                r"identifica",
                r"compara",
                r"analiza",
                r"enumera",
                r"dime",
                r"escribe(?:me)?",
                r"eval[úu]a",
                r"comenta",
                r"reconoce",
            ),
            2.5,
            ("descríbeme esta foto", "¿puedes resumir el vídeo?", "traduce el cartel", "dime qué ves"),
        ),
        Cue(
            words(
                r"descripci[óo]n",
                r"resumen",
                r"traducci[óo]n",
                r"subt[íi]tulos",
                r"poema",
                r"lista de",
                r"consejos",
                r"t[íi]tulo",
                r"pie de foto",
                r"diferencias?",
            ),
            1.2,
            ("dame una descripción", "un pie de foto para instagram"),
        ),
    ),
    "text_only": (
        Cue(
            words(
                r"solo (?:el )?texto",
                r"s[óo]lo (?:el )?texto",
                r"sin (?:im[áa]genes|imagen|v[íi]deos?|dibujos?)",
                r"no (?:hace falta|necesito) (?:una )?(?:imagen|dibujo|v[íi]deo)",
                r"con palabras",
            ),
            4.0,
            ("un prompt para un puerto, solo texto", "describe un dragón, sin imágenes"),
        ),
        Cue(
            words(
                r"no (?:la |lo )?(?:cambies|modifiques|edites|toques|retoques)",
                r"sin (?:cambiar|modificar|editar|tocar)",
                r"solo (?:dime|descr[íi]bel[ao]|expl[íi]ca)",
            ),
            4.0,
            ("no la cambies, solo dime qué falla", "sin editar nada, ¿qué tal la composición?"),
        ),
    ),
    "gen": (
        Cue(
            words(
                r"genera(?:r|me)?",
                r"gen[ée]rame",
                r"crea(?:r|me)?",
                r"cr[ée]ame",
                r"haz(?:me)?",
                r"hacer",
                r"dibuja(?:r|me)?",
                r"dib[úu]jame",
                r"pinta(?:me)?",
                r"p[íi]ntame",
                r"dise[ñn]a(?:me)?",
                r"renderiza",
            ),
            1.5,
            ("genera una imagen de un zorro", "hazme un logo", "dibújame un gato"),
        ),
        Cue(
            words(r"(?:quiero|necesito|dame|mu[ée]strame|me gustar[íi]a) (?:un|una|unos|unas|\d+|dos|tres)")
            + r"\s+(?:[\w-]+\s+){0,2}?"
            + words(IMAGE_NOUNS, VIDEO_NOUNS, r"logos?", r"clips?", r"p[óo]sters?"),
            3.0,
            ("quiero una imagen: un faro en una tormenta", "dame tres fotos de un perro", "necesito un vídeo corto"),
        ),
        Cue(
            words(r"(?:una|un|nueva|nuevo|otra|otro|dos|tres)")
            + r"\s+(?:\w+\s+){0,2}?"
            + words(IMAGE_NOUNS, VIDEO_NOUNS),
            1.0,
            ("una imagen de un faro", "otra foto con luz suave"),
        ),
    ),
    "edit": (
        Cue(
            r"(?:^|[.!?,:;]\s*|\b(?:puedes|podr[íi]as|por favor|ahora|y|luego|solo)\s+)"
            + words(
                r"c[áa]mbia(?:le|la|lo)?",
                r"reemplaza",
                r"sustituye",
                r"quita(?:le)?",
                r"qu[íi]tale",
                r"elimina",
                r"borra",
                r"a[ñn]ade(?:le)?",
                r"a[ñn][áa]dele",
                r"agrega(?:le)?",
                r"pon(?:le)?",
                r"convierte(?:la|lo)?",
                r"transforma",
                r"arregla",
                r"repara",
                r"restaura",
                r"mejora",
                r"retoca",
                r"colorea",
                r"aclara",
                r"oscurece",
                r"recorta",
                r"extiende",
                r"ampl[íi]a",
                r"edita",
                r"modifica",
                r"ajusta",
                r"haz que",
            ),
            2.0,
            ("quita el perro de la foto", "cambia el cielo por un atardecer", "añade un sombrero al gato"),
        ),
        Cue(
            words(
                r"cambiar",
                r"quitar",
                r"eliminar",
                r"borrar",
                r"a[ñn]adir",
                r"agregar",
                r"reemplazar",
                r"editar",
                r"retocar",
                r"restaurar",
                r"mejorar",
            ),
            0.8,
            ("me gustaría quitar los cables", "hay que cambiar el fondo"),
        ),
        Cue(
            words(
                r"(?:deja|dejando|mant[ée]n|manteniendo) (?:todo )?(?:lo dem[áa]s|el resto)(?: igual)?",
                r"lo dem[áa]s igual",
            ),
            3.0,
            ("cielo morado, deja lo demás igual", "mantén el resto"),
        ),
        Cue(
            words(r"fondo", r"cielo", r"iluminaci[óo]n", r"colou?res", r"marca de agua"),
            0.6,
            ("el fondo es feo", "quita la marca de agua"),
        ),
        Cue(
            words(r"en (?:la|esta|el|este) (?:foto|imagen|v[íi]deo|clip)"),
            1.0,
            ("el perro en la foto", "el cielo en este vídeo"),
        ),
    ),
    "reference": (
        Cue(
            words(
                r"(?:con|en) el (?:mismo )?estilo de", r"mismo estilo", r"estilo de (?:esta|este|la) (?:foto|imagen)"
            ),
            4.0,
            ("un castillo con el estilo de esta imagen", "un gato con el mismo estilo"),
        ),
        Cue(
            words(
                r"basad[oa] en (?:esta|este|mi|la|el)",
                r"a partir de (?:esta|este|mi)",
                r"usa (?:mi|su|esta) (?:cara|foto|selfie)",
                r"(?:mant[ée]n|conserva) (?:su|mi|la misma) cara",
                r"de m[íi]",
                r"conmigo",
            ),
            2.5,
            ("un póster basado en esta foto", "un retrato mío, usa mi selfie", "una caricatura de mí"),
        ),
        Cue(
            words(r"(?:este|esta|mi) (?:personaje|persona|chico|chica|producto|juguete|mascota|perro|gato|peluche)"),
            1.0,
            ("este personaje en la luna", "mi perro en la playa"),
        ),
        Cue(
            words(r"(?:nueva|otra) (?:imagen|foto|escena)", r"(?:nuevo|otro) (?:v[íi]deo|clip)"),
            2.0,
            ("una nueva foto de esta taza", "otra escena"),
        ),
    ),
    "i2v": (
        Cue(
            words(
                r"anima(?:r|la|lo)?",
                r"an[íi]mal[ao]",
                r"dale vida",
                r"da vida a",
                r"que se mueva",
                r"hazl[ao] mover",
                r"(?:convi[ée]rte(?:la|lo)?|p[áa]sal[ao]) (?:en|a) (?:un )?v[íi]deo",
                r"primer fotograma",
                r"[úu]ltimo fotograma",
                r"fotograma (?:inicial|final)",
                r"imagen (?:inicial|final)",
            ),
            4.0,
            ("anima esta foto", "conviértela en un vídeo de 3 segundos", "esta es el primer fotograma"),
        ),
        Cue(
            words(
                r"(?:empieza|empiece|comienza|comience) (?:con|en|desde) (?:esta|este|mi|la)",
                r"(?:termina|acaba) (?:con|en) (?:esta|este|mi|la)",
            ),
            3.5,
            ("que empiece con esta foto", "termina en la segunda imagen"),
        ),
    ),
    "not_i2v": (
        Cue(
            words(
                r"no (?:tiene que|necesita|hace falta) (?:empezar|comenzar)",
                r"no (?:empieces|empiece|comiences) (?:con|desde|en)",
            ),
            5.0,
            ("no tiene que empezar con esta foto", "no empieces desde mi imagen"),
        ),
    ),
    "control": (
        Cue(
            words(r"(?:sigue|siguiendo|copia|copiando|usa|usando|imita|imitando|respeta|mant[ée]n|con)")
            + r"\s+(?:(?:el|la|los|las|esta|este|estas|estos|su|sus|mismo|misma|mismos|mismas)\s+){0,2}"
            + words(
                r"poses?",
                r"postura",
                r"profundidad",
                r"bordes",
                r"contornos?",
                r"movimientos?",
                r"composici[óo]n",
                r"estructura",
                r"boceto",
                r"esqueleto",
                r"coreograf[íi]a",
                r"pasos de baile",
            ),
            4.0,
            ("sigue los movimientos de este vídeo", "usa la profundidad de esta imagen", "con la misma pose"),
        ),
        Cue(
            words(r"(?:convierte|transforma|haz|pasa) (?:este|mi|el) (?:boceto|dibujo|garabato|esbozo) (?:en|a)"),
            3.5,
            ("convierte este boceto en una foto realista", "pasa mi dibujo a ilustración"),
        ),
    ),
    "control_words": (
        Cue(
            words(
                r"mapa de (?:profundidad|bordes|pose)",
                r"esqueleto",
                r"v[íi]deo de (?:pose|profundidad)",
                r"flujo [óo]ptico",
            ),
            3.0,
            ("aquí tienes un mapa de profundidad", "un vídeo de pose"),
        ),
    ),
    "still": (
        Cue(
            words(
                r"imagen fija",
                r"foto fija",
                r"no (?:un |una )?(?:v[íi]deo|animaci[óo]n)",
                r"una sola imagen",
                r"un solo fotograma",
            ),
            4.0,
            ("una imagen fija, no un vídeo", "una sola imagen"),
        ),
    ),
    "out_video": (
        Cue(
            words(VIDEO_NOUNS, r"c[áa]mara lenta", r"timelapse"),
            1.0,
            ("haz un video de un perro", "un vídeo corto", "una animación"),
        ),
    ),
    "out_image": (
        Cue(
            words(IMAGE_NOUNS, r"logotipo", r"fondo de pantalla", r"retrato", r"p[óo]ster"),
            1.0,
            ("una imagen de un faro", "un retrato al óleo"),
        ),
    ),
    "motion": (
        Cue(
            words(
                r"corre",
                r"corren",
                r"corriendo",
                r"camina",
                r"caminando",
                r"salta",
                r"saltando",
                r"vuela",
                r"volando",
                r"baila",
                r"bailando",
                r"nadando",
                r"gira",
                r"girando",
                r"cae",
                r"cayendo",
                r"fluye",
                r"explota",
                r"galopa",
                r"galopando",
                r"se mueve",
                r"ondea",
                r"la c[áa]mara",
            ),
            1.0,
            ("un perro corriendo en la playa", "un pájaro vuela sobre el mar"),
        ),
    ),
    # Control signals named in words (``settings.control_type``).
    "signal_flow": (
        Cue(
            r"\bflujo\s+[óo]ptico\b|\bmovimiento\s+de\s+(?:la\s+)?c[áa]mara\b",
            examples=("sigue el flujo óptico de este clip", "toma el movimiento de cámara del clip"),
        ),
    ),
    "signal_gray": (
        Cue(
            r"\bescala\s+de\s+grises\b|\btonos\s+de\s+gris\b",
            examples=("usa la versión en escala de grises de este clip", "los tonos de gris del video como guía"),
        ),
    ),
    "signal_layout": (
        Cue(
            r"\bcajas\s+delimitadoras\b|\bcuadros\s+delimitadores\b|\bdistribuci[óo]n\s+de\s+(?:los\s+)?elementos\b"
            r"|\bmaquetaci[óo]n\b",
            examples=("sigue las cajas delimitadoras del video", "la misma distribución de elementos"),
        ),
    ),
    "signal_pose": (
        Cue(
            r"\bposes?\b|\bposturas?\b|\besqueletos?\b|\bpuntos\s+clave\b|\bcoreograf[íi]as?\b|\bpasos\s+de\s+baile\b"
            r"|\bmovimientos\b(?!\s+de\s+(?:la\s+)?c[áa]mara)|\b(?:su|mi|tu|el)\s+baile\b",
            examples=(
                "la misma postura que el chico de esta foto",
                "que siga la coreografía de mi video",
                "haga exactamente los movimientos del clip",
                "sigue mi vídeo de esqueletos",
            ),
        ),
    ),
    "signal_depth": (
        Cue(
            r"\bprofundidad\b",
            examples=("con el video de profundidad que te paso", "mi mapa de profundidad"),
        ),
    ),
    "signal_canny": (
        Cue(
            r"\bbordes\b|\bcontornos?\b|\baristas\b|\bcanny\b|\bl[íi]neas\s+de\s+(?:estructura|contorno)\b",
            examples=("con el mapa de bordes que te paso", "usa los contornos de esta fachada"),
        ),
    ),
    "signal_scribble": (
        Cue(
            r"\bbocetos?\b|\bgaraba(?:to|tos|teo)\b|\bdibujo\s+(?:a\s+(?:l[áa]piz|mano)|lineal)\b|\bmi\s+dibujo\b"
            r"|\bdibujitos?\b|\btrazos?\b",
            examples=("usa mi dibujo a lápiz como guía", "siguiendo el trazo del boceto", "este garabato"),
        ),
    ),
}

LEXICON = Lexicon(language="es", script="latin", cues=CUES, image_nouns=IMAGE_NOUNS, video_nouns=VIDEO_NOUNS)
