"""French cues. Accents are optional where people often drop them (enlève/enleve, décris/decris). Words spelled
the same in English with the same meaning ("change", "compare", "animation") are left to the English lexicon, so
that an English request is not counted twice."""

from __future__ import annotations

from unison_agent.planning.lexicon import Cue, Lexicon, words

IMAGE_NOUNS = r"images?|photos?|dessins?|illustrations?|peintures?|tableaux?|affiches?|portraits?|fonds? d'[ée]cran"
VIDEO_NOUNS = r"vid[ée]os?|animations?|films?|courts?[- ]m[ée]trages?"

CUES: dict[str, tuple[Cue, ...]] = {
    "question": (
        Cue(
            r"^\W*(?:qu'est[- ]ce|que|quel|quelle|quels|quelles|qui|pourquoi|comment|o[ùu]|quand|combien|est-ce que|"
            r"est-ce qu'|y a-t-il|peux-tu me dire)\b(?=[^.!]*\?|\s+(?:est|sont|il|elle|on|y|faire|voit)\b)",
            2.0,
            ("qu'est-ce qu'il y a sur cette photo ?", "pourquoi le ciel est bleu ?", "combien de chats y a-t-il ?"),
            ("que le ciel soit violet",),
        ),
        Cue(
            words(r"est-ce que", r"est-ce qu'", r"qu'est-ce que", r"qu'est-ce qu'", r"y a-t-il", r"\w+-t-(?:il|elle)"),
            2.0,
            ("dis-moi, est-ce que c'est retouché", "est-ce qu'elle est floue"),
        ),
        Cue(
            words(r"je me demande", r"je voudrais savoir", r"tu sais (?:si|qui|ce)"),
            1.5,
            ("je me demande quelle plante c'est", "je voudrais savoir qui a peint ça"),
        ),
    ),
    "answer_verb": (
        Cue(
            r"(?:^|[.!?:]\s*|\b(?:peux-tu|pourrais-tu|pouvez-vous|s'il te pla[îi]t|juste)\s+)"
            + words(
                r"d[ée]cri[st]",
                r"d[ée]crivez",
                r"explique[sz]?",
                r"r[ée]sume[sz]?",
                r"tradui[st]",
                r"traduisez",
                r"transcri[st]",
                r"identifie[sz]?",
                r"analyse[sz]",
                r"dis-moi",
                r"dites-moi",
                r"[ée]cri[st]",
                r"[ée]numère",
                r"[ée]value[sz]?",
                r"commente[sz]?",
                r"compte[sz]?",
                r"liste[sz]?",
            ),
            2.5,
            ("décris cette image", "peux-tu résumer... explique la vidéo", "dis-moi ce que tu vois"),
        ),
        Cue(
            words(
                r"r[ée]sum[ée]",
                r"l[ée]gende",
                r"traduction",
                r"sous-titres",
                r"po[èe]me",
                r"liste de",
                r"conseils",
                r"avis",
                r"diff[ée]rences?",
            ),
            1.2,
            ("une légende pour instagram", "ton avis sur la lumière"),
        ),
    ),
    "text_only": (
        Cue(
            words(
                r"juste (?:le )?texte",
                r"texte seulement",
                r"seulement (?:le )?texte",
                r"sans (?:images?|vid[ée]os?|dessins?)",
                r"pas besoin de (?:dessiner|d'image)",
                r"en mots",
            ),
            4.0,
            ("un prompt pour un port, juste le texte", "décris un dragon, sans image"),
        ),
        Cue(
            words(
                r"ne (?:la |le |l')?(?:change|modifie|retouche|touche) (?:rien|pas)",
                r"sans rien (?:changer|modifier|toucher)",
                r"sans (?:la |le )?(?:modifier|retoucher)",
                r"dis-moi juste",
            ),
            4.0,
            ("ne change rien, dis-moi ce qui ne va pas", "sans rien modifier, que vaut la composition ?"),
        ),
    ),
    "gen": (
        Cue(
            words(
                r"g[ée]n[èe]re[sz]?",
                r"g[ée]n[ée]rer",
                r"cr[ée]e[sz]?",
                r"cr[ée]er",
                r"fais(?:-moi)?",
                r"faites(?:-moi)?",
                r"dessine(?:-moi)?",
                r"dessiner",
                r"peins(?:-moi)?",
                r"con[çc]ois",
                r"réalise",
            ),
            1.5,
            ("génère une image d'un renard", "fais-moi un logo", "dessine-moi un mouton"),
        ),
        Cue(
            words(r"(?:je veux|je voudrais|j'aimerais|donne-moi|montre-moi) (?:une|un|des|\d+|deux|trois)")
            + r"\s+(?:[\w'-]+\s+){0,2}?"
            + words(IMAGE_NOUNS, VIDEO_NOUNS, r"logos?", r"clips?"),
            3.0,
            ("je veux une image d'un phare", "donne-moi trois photos d'un chien"),
        ),
        Cue(
            words(r"(?:une|un|nouvelle|nouveau|autre|deux|trois)")
            + r"\s+(?:[\w'-]+\s+){0,2}?"
            + words(r"vid[ée]os?", r"dessins?", r"affiches?", r"tableaux?"),
            1.0,
            ("une vidéo d'un renard", "un dessin de chat"),
        ),
    ),
    "edit": (
        Cue(
            r"(?:^|[.!?,:;]\s*|\b(?:peux-tu|pourrais-tu|s'il te pla[îi]t|maintenant|et|puis|juste)\s+)"
            + words(
                r"remplace[sz]?",
                r"enl[èe]ve[sz]?",
                r"retire[sz]?",
                r"supprime[sz]?",
                r"efface[sz]?",
                r"ajoute[sz]?",
                r"mets",
                r"mettez",
                r"transforme[sz]?",
                r"convertis",
                r"r[ée]pare[sz]?",
                r"restaure[sz]?",
                r"am[ée]liore[sz]?",
                r"retouche[sz]?",
                r"colorise[sz]?",
                r"[ée]claircis",
                r"assombris",
                r"recadre[sz]?",
                r"[ée]tends",
                r"modifie[sz]?",
                r"ajuste[sz]?",
                r"rends(?:-la|-le)?",
                r"change[sz]? (?:le|la|les|l')",
            ),
            2.0,
            (
                "enlève le chien de cette photo",
                "ajoute un chapeau au chat",
                "remplace le ciel par un coucher de soleil",
            ),
        ),
        Cue(
            words(
                r"changer",
                r"enlever",
                r"retirer",
                r"supprimer",
                r"effacer",
                r"ajouter",
                r"remplacer",
                r"modifier",
                r"retoucher",
                r"restaurer",
            ),
            0.8,
            ("j'aimerais enlever les fils", "il faut changer le fond"),
        ),
        Cue(
            words(r"(?:garde|gardez|en gardant) (?:tout )?le reste", r"le reste (?:identique|pareil|inchang[ée])"),
            3.0,
            ("ciel violet, garde le reste", "le reste identique"),
        ),
        Cue(
            words(r"fond", r"arri[èe]re-plan", r"ciel", r"[ée]clairage", r"couleurs?", r"filigrane"),
            0.6,
            ("le fond est moche", "le ciel"),
        ),
        Cue(
            words(r"(?:sur|dans) (?:la|cette|le|ce) (?:photo|image|vid[ée]o)"),
            1.0,
            ("le chien sur la photo", "dans cette vidéo"),
        ),
    ),
    "reference": (
        Cue(
            words(
                r"(?:dans|avec) le (?:m[êe]me )?style de",
                r"m[êe]me style",
                r"style de (?:cette|ce|la|le) (?:photo|image|tableau)",
            ),
            4.0,
            ("un château dans le style de cette image", "un chat avec le même style"),
        ),
        Cue(
            words(
                r"bas[ée]e? sur (?:cette|ce|ma|mon|la|le)",
                r"[àa] partir de (?:cette|ce|ma|mon)",
                r"(?:garde|utilise|conserve) (?:son|sa|mon|ma|le m[êe]me|la m[êe]me) visage",
                r"de moi",
                r"avec moi",
            ),
            2.5,
            ("une affiche basée sur cette photo", "garde son visage, mets-la sur une plage"),
        ),
        Cue(
            words(r"(?:ce|cette|mon|ma) (?:personnage|personne|produit|jouet|mascotte|chien|chat|peluche)"),
            1.0,
            ("ce personnage sur la lune", "ma peluche dans une cuisine"),
        ),
        Cue(
            words(r"(?:nouvelle|autre) (?:image|photo|sc[èe]ne|vid[ée]o)", r"(?:nouveau|autre) (?:clip|film)"),
            2.0,
            ("une nouvelle photo de cette tasse", "une autre scène"),
        ),
    ),
    "i2v": (
        Cue(
            r"\b(?:anime|animez|animer)\s+(?:cette|cet|ce|la|le|les|ma|mon|mes|l')"
            + "|"
            + words(
                r"donne[sz]? vie [àa]",
                r"fais(?:-la|-le)? bouger",
                r"qu'(?:il|elle) bouge",
                r"premi[èe]re image",
                r"derni[èe]re image",
                r"image (?:de d[ée]part|de d[ée]but|de fin|initiale|finale)",
                r"(?:transforme|convertis)(?:-la|-le)? en (?:une )?vid[ée]o",
            ),
            4.0,
            ("anime cette photo", "fais-la bouger", "transforme-la en vidéo de 3 secondes", "c'est la dernière image"),
        ),
        Cue(
            words(
                r"(?:commence|d[ée]marre) (?:par|avec|sur) (?:cette|ce|ma|mon|la)",
                r"(?:termine|finit|finis) (?:par|sur|avec) (?:cette|ce|ma|mon|la)",
            ),
            3.5,
            ("commence par cette photo", "termine sur la deuxième image"),
        ),
    ),
    "not_i2v": (
        Cue(
            words(
                r"pas besoin de (?:commencer|partir) (?:de|par|avec)",
                r"ne (?:commence|pars|d[ée]marre) pas (?:de|par|avec|sur)",
            ),
            5.0,
            ("pas besoin de commencer par cette photo", "ne commence pas avec mon image"),
        ),
    ),
    "control": (
        Cue(
            words(
                r"(?:suis|suit|suivez|suivant|copie|copiez|reprends|reprenez|utilise|utilisez|garde|gardez|imite|avec)"
            )
            + r"\s+(?:(?:la|le|les|l'|cette|ce|ces|sa|son|ses|m[êe]mes?)\s*){0,2}"
            + words(
                r"poses?",
                r"postures?",
                r"profondeur",
                r"contours",
                r"mouvements?",
                r"composition",
                r"structure",
                r"croquis",
                r"squelette",
                r"chor[ée]graphie",
                r"pas de danse",
            ),
            4.0,
            ("suis les mouvements de cette vidéo", "utilise la profondeur de cette image", "garde la même pose"),
        ),
        Cue(
            words(r"(?:transforme|convertis|fais) (?:ce|mon|le) (?:croquis|dessin|gribouillis|brouillon) en"),
            3.5,
            ("transforme ce croquis en photo réaliste", "convertis mon dessin en illustration"),
        ),
    ),
    "control_words": (
        Cue(
            words(
                r"carte de (?:profondeur|contours|pose)",
                r"squelette",
                r"vid[ée]o de (?:pose|profondeur)",
                r"flux optique",
            ),
            3.0,
            ("voici une carte de profondeur", "une vidéo de pose"),
        ),
    ),
    "still": (
        Cue(
            words(r"image fixe", r"photo fixe", r"pas (?:une |de )?(?:vid[ée]o|animation)", r"une seule image"),
            4.0,
            ("une image fixe, pas une vidéo", "une seule image"),
        ),
    ),
    "out_video": (
        Cue(words(VIDEO_NOUNS, r"ralenti", r"timelapse"), 1.0, ("crée une vidéo d'un renard", "un court-métrage")),
    ),
    "out_image": (Cue(words(IMAGE_NOUNS, r"logos?", r"ic[ôo]nes?"), 1.0, ("une image d'un phare", "un fond d'écran")),),
    "motion": (
        Cue(
            words(
                r"court",
                r"courent",
                r"marche",
                r"marchent",
                r"saute",
                r"sautent",
                r"vole",
                r"volent",
                r"danse",
                r"dansent",
                r"nage",
                r"nagent",
                r"tourne",
                r"tournent",
                r"tombe",
                r"tombent",
                r"coule",
                r"explose",
                r"galope",
                r"roule",
                r"se d[ée]place",
                r"la cam[ée]ra",
            ),
            1.0,
            ("un renard qui court dans la neige", "des oiseaux volent au-dessus de la mer"),
        ),
    ),
    # Control signals named in words (``settings.control_type``).
    "signal_flow": (
        Cue(
            r"\bflux\s+optique\b|\bmouvements?\s+de\s+(?:la\s+)?cam[ée]ra\b",
            examples=("suis le flux optique de ce clip", "reprends le mouvement de caméra du clip"),
        ),
    ),
    "signal_gray": (
        Cue(
            r"\bniveaux?\s+de\s+gris\b",
            examples=("la version en niveaux de gris de ce clip", "seulement des niveaux de gris de cette vidéo"),
        ),
    ),
    "signal_layout": (
        Cue(
            r"\bbo[îi]tes\s+englobantes\b|\bcadres\s+de\s+d[ée]limitation\b|\bmise\s+en\s+page\b"
            r"|\bdisposition\s+des\s+[ée]l[ée]ments\b",
            examples=("suis les boîtes englobantes de la vidéo", "garde la mise en page de cette image"),
        ),
    ),
    "signal_pose": (
        Cue(
            r"\bposes?\b|\bpostures?\b|\bsquelettes?\b|\bpoints\s+cl[ée]s\b|\bchor[ée]graphies?\b|\bpas\s+de\s+danse\b"
            r"|\bmouvements\b(?!\s+de\s+(?:la\s+)?cam[ée]ra)|\bgestes\b",
            examples=(
                "la même posture que la fille sur cette photo",
                "garde juste son squelette",
                "t'extrais mes mouvements",
                "qui suit la chorégraphie de ma vidéo",
            ),
        ),
    ),
    "signal_depth": (Cue(r"\bprofondeur\b", examples=("avec la vidéo de profondeur", "ma carte de profondeur")),),
    "signal_canny": (
        Cue(
            r"\bcontours?\b|\bbords\b|\bar[êe]tes\b|\bcanny\b|\blignes\s+de\s+structure\b|\bstructure\s+des\s+lignes\b",
            examples=("garde les contours de cette façade", "la carte des bords"),
        ),
    ),
    "signal_scribble": (
        Cue(
            r"\bcroquis\b|\bgribouill\w*|\besquisses?\b|\bdessin\s+(?:au\s+crayon|à\s+main\s+lev[ée]e)\b"
            r"|\bmon\s+dessin\b|\btrac[ée]s?\b",
            examples=("utilise mon dessin au crayon comme guide", "le tracé du croquis joint", "mon gribouillage"),
        ),
    ),
}

LEXICON = Lexicon(language="fr", script="latin", cues=CUES, image_nouns=IMAGE_NOUNS, video_nouns=VIDEO_NOUNS)
