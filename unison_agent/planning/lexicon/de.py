"""German cues. Imperatives come with and without their final -e (ändere/änder), umlauts also as ae/oe/ue where
people type them so. Words spelled the same in English with the same meaning ("video", "animation") are left to
the English lexicon, so that an English request is not counted twice."""

from __future__ import annotations

from unison_agent.planning.lexicon import Cue, Lexicon, words

IMAGE_NOUNS = (
    r"bild(?:er|es)?|fotos?|zeichnung(?:en)?|gem[äa]lde|illustration(?:en)?|plakate?|hintergrundbild(?:er)?|"
    r"portr[äa]ts?"
)
VIDEO_NOUNS = r"videos?|clips?|filme?|kurzfilme?|animation(?:en)?|zeitraffer"

CUES: dict[str, tuple[Cue, ...]] = {
    "question": (
        Cue(
            r"^\W*(?:was (?:ist|sind|passiert|siehst|steht|bedeutet|zeigt|macht|kann)"
            r"|wer|wie (?:viele?|alt|hei[ßs]t|lange|gro[ßs]|ist|sind|kann|sieht|teuer)|wo|wann|warum|wieso|weshalb|"
            r"welche[rsmn]?|wieviele?|gibt es|ist (?:das|dies|es|hier)|sind (?:das|die|hier)|kannst du mir sagen)\b",
            2.0,
            ("was ist auf diesem foto zu sehen?", "wer hat das gemalt", "ist das ein echtes foto"),
            ("was this edited?", "wie ein gemälde von monet, ein hafen"),
        ),
        Cue(
            words(r"ich frage mich", r"ich m[öo]chte wissen", r"wei[ßs]t du"),
            1.5,
            ("ich möchte wissen, welche pflanze das ist", "ich frage mich, ob das echt ist"),
        ),
    ),
    "answer_verb": (
        Cue(
            r"(?:^|[.!?:]\s*|\b(?:kannst du|k[öo]nntest du|bitte|nur)\s+)"
            + words(
                r"beschreib(?:e)?",
                r"erkl[äa]r(?:e)?",
                r"fass(?:e)? [^.!?]{0,40}zusammen",
                r"[üu]bersetz(?:e)?",
                r"transkribier(?:e)?",
                r"z[äa]hl(?:e)?",
                r"identifizier(?:e)?",
                r"vergleich(?:e)?",
                r"analysier(?:e)?",
                r"bewert(?:e)?",
                r"nenn(?:e)?",
                r"sag mir",
                r"schreib(?:e)?",
                r"lies",
            ),
            2.5,
            (
                "beschreibe dieses bild",
                "kannst du das video zusammenfassen? fasse es kurz zusammen",
                "übersetze das schild",
            ),
        ),
        Cue(
            words(
                r"beschreibung",
                r"zusammenfassung",
                r"[üu]bersetzung",
                r"untertitel",
                r"gedicht",
                r"liste",
                r"tipps",
                r"meinung",
                r"bildunterschrift",
                r"unterschiede?",
            ),
            1.2,
            ("eine bildunterschrift für instagram", "deine meinung zum licht"),
        ),
    ),
    "text_only": (
        Cue(
            words(r"nur (?:den |als )?text", r"ohne (?:bild|bilder|video|zeichnung)", r"kein bild", r"in worten"),
            4.0,
            ("ein prompt für einen hafen, nur text", "beschreib einen drachen, ohne bild"),
        ),
        Cue(
            words(
                r"(?:[äa]ndere|[äa]nder|bearbeite|ver[äa]ndere) (?:nichts|es nicht|das bild nicht)",
                r"nichts (?:[äa]ndern|ver[äa]ndern|bearbeiten)",
                r"ohne (?:etwas )?zu [äa]ndern",
            ),
            4.0,
            ("ändere nichts, sag mir nur, was falsch ist", "ohne etwas zu ändern: wie ist die komposition?"),
        ),
    ),
    "gen": (
        Cue(
            words(
                r"erstell(?:e)?",
                r"generier(?:e)?",
                r"erzeug(?:e)?",
                r"mach(?:e)?",
                r"zeichne",
                r"mal(?:e)? (?:mir )?(?:ein|eine|einen)",
                r"gestalte",
                r"entwirf",
                r"rendere",
            ),
            1.5,
            ("erstelle ein bild von einem fuchs", "zeichne eine katze", "mal mir ein haus"),
        ),
        Cue(
            words(r"(?:ich (?:will|m[öo]chte|h[äa]tte gern)|gib mir|zeig mir) (?:ein|eine|einen|\d+|zwei|drei)")
            + r"\s+(?:[\w-]+\s+){0,2}?"
            + words(IMAGE_NOUNS, VIDEO_NOUNS, r"logos?", r"poster"),
            3.0,
            ("ich möchte ein bild von einem leuchtturm", "gib mir drei fotos von einem hund"),
        ),
        Cue(
            words(r"(?:ein|eine|einen|neues|neue|zwei|drei)")
            + r"\s+(?:[\w-]+\s+){0,2}?"
            + words(r"bild(?:er)?", r"fotos?", r"zeichnung(?:en)?", r"gem[äa]lde", r"kurzfilme?"),
            1.0,
            ("ein bild von einem fuchs", "ein neues foto mit weichem licht"),
        ),
    ),
    "edit": (
        Cue(
            r"(?:^|[.!?,:;]\s*|\b(?:kannst du|k[öo]nntest du|bitte|jetzt|und|dann|nur)\s+)"
            + words(
                r"(?:[äa]|ae)nder(?:e)?",
                r"ersetz(?:e)?",
                r"tausch(?:e)?",
                r"entfern(?:e)?",
                r"l[öo]sch(?:e)?",
                r"radier(?:e)?",
                r"f[üu]g(?:e)? [^.!?]{0,40}hinzu",
                r"setz(?:e)?",
                r"verwandl(?:e)?",
                r"wandl(?:e)?",
                r"konvertier(?:e)?",
                r"reparier(?:e)?",
                r"restaurier(?:e)?",
                r"verbesser(?:e)?",
                r"retuschier(?:e)?",
                r"kolorier(?:e)?",
                r"sch[äa]rf(?:e)?",
                r"hell(?:e)? (?:den|die|das|es) [^.!?]{0,30}auf",
                r"verdunkl(?:e)?",
                r"erweiter(?:e)?",
                r"schneid(?:e)?",
                r"bearbeit(?:e)?",
                r"pass(?:e)? (?:den|die|das|es) [^.!?]{0,30}an",
                r"f[äa]rb(?:e)?",
                r"mach(?:e)? (?:den|die|das) \w+ \w+er\b",
            ),
            2.0,
            ("entferne den hund aus dem bild", "ändere den himmel in einen sonnenuntergang", "füge einen hut hinzu"),
        ),
        Cue(
            words(
                r"[äa]ndern",
                r"ersetzen",
                r"entfernen",
                r"l[öo]schen",
                r"hinzuf[üu]gen",
                r"bearbeiten",
                r"retuschieren",
                r"restaurieren",
                r"verbessern",
            ),
            0.8,
            ("ich möchte die kabel entfernen", "den hintergrund ändern"),
        ),
        Cue(
            words(r"(?:lass|behalte) (?:alles )?(?:andere|den rest)(?: gleich| unver[äa]ndert)?", r"der rest bleibt"),
            3.0,
            ("lila himmel, lass alles andere gleich", "der rest bleibt"),
        ),
        Cue(
            words(r"hintergrund", r"himmel", r"beleuchtung", r"farben?", r"wasserzeichen"),
            0.6,
            ("der hintergrund ist hässlich", "die farben"),
        ),
        Cue(
            words(r"(?:auf|in) (?:dem|diesem) (?:bild|foto|video|clip)"),
            1.0,
            ("der hund auf dem foto", "in diesem video"),
        ),
    ),
    "reference": (
        Cue(
            words(r"im (?:gleichen |selben )?stil (?:von|dieses|dieser|des|der|wie)", r"(?:gleichen|selben) stil"),
            4.0,
            ("eine burg im stil dieses bildes", "eine katze im gleichen stil"),
        ),
        Cue(
            words(
                r"basierend auf (?:diesem|dieser|meinem|meiner|dem)",
                r"ausgehend von (?:diesem|meinem)",
                r"(?:behalte|nutze|verwende) (?:sein|ihr|mein|das gleiche|dasselbe) gesicht",
                r"von mir",
                r"mit mir",
            ),
            2.5,
            ("ein poster basierend auf diesem foto", "behalte ihr gesicht, setz sie an einen strand"),
        ),
        Cue(
            words(
                r"(?:diese|dieser|dieses|mein|meine|meinen) "
                r"(?:figur|person|charakter|produkt|spielzeug|maskottchen|hund|katze|kuscheltier)"
            ),
            1.0,
            ("diese figur auf dem mond", "mein hund am strand"),
        ),
        Cue(
            words(r"(?:neues|anderes) (?:bild|foto|video)", r"(?:neue|andere) (?:szene|aufnahme)"),
            2.0,
            ("ein neues foto dieser tasse", "eine andere szene"),
        ),
    ),
    "i2v": (
        Cue(
            words(
                r"animier(?:e)?",
                r"animieren",
                r"erweck(?:e)? [^.!?]{0,30}zum leben",
                r"zum leben erwecken",
                r"lass (?:es|sie|ihn|das bild|das foto) (?:sich )?bewegen",
                r"(?:erstes|letztes|start|end)bild",
                r"(?:erstes|letztes) bild",
                r"(?:erster|letzter) frame",
                r"(?:mach|verwandle) (?:daraus|es|das) (?:in )?ein video",
                r"daraus ein video",
            ),
            4.0,
            ("animiere dieses foto", "erwecke das bild zum leben", "mach daraus ein video von 3 sekunden"),
        ),
        Cue(
            words(
                r"(?:beginnt|startet|f[äa]ngt) (?:mit|bei) (?:diesem|dem|meinem)",
                r"(?:endet|h[öo]rt) (?:mit|bei|auf) (?:diesem|dem|meinem)",
            ),
            3.5,
            ("das video beginnt mit diesem foto", "endet mit dem zweiten bild"),
        ),
    ),
    "not_i2v": (
        Cue(
            words(
                r"muss nicht (?:mit [^.!?]{0,30})?(?:anfangen|beginnen|starten)",
                r"nicht (?:mit [^.!?]{0,30})?(?:anfangen|beginnen|starten)",
            ),
            5.0,
            ("es muss nicht mit diesem bild anfangen", "bitte nicht mit meinem foto beginnen"),
        ),
    ),
    "control": (
        Cue(
            words(r"(?:folge|folgt|[üu]bernimm|[üu]bernehme|kopiere|nutze|verwende|behalte|mit)")
            + r"\s+(?:(?:der|die|den|das|dem|diese|dieser|diesen|seine|ihre|gleiche|gleichen|selbe|selben)\s+){0,2}"
            + words(
                r"pose(?:n)?",
                r"haltung",
                r"tiefe",
                r"kanten",
                r"konturen",
                r"bewegung(?:en)?",
                r"komposition",
                r"struktur",
                r"skizze",
                r"skelett",
                r"tanzschritte",
                r"choreografie",
            ),
            4.0,
            ("folge den bewegungen in diesem video", "nutze die tiefe dieses bildes", "behalte die gleiche pose"),
        ),
        Cue(
            words(r"(?:mach|verwandle|wandle) (?:diese|meine|die) (?:skizze|zeichnung|kritzelei) (?:in|zu)"),
            3.5,
            ("mach diese skizze zu einem realistischen foto", "verwandle meine zeichnung in ein gemälde"),
        ),
    ),
    "control_words": (
        Cue(
            words(
                r"tiefenkarte",
                r"tiefenvideo",
                r"kantenkarte",
                r"posen?video",
                r"skelett",
                r"optischer fluss",
                r"strichm[äa]nnchen",
            ),
            3.0,
            ("hier ist eine tiefenkarte", "ein posenvideo"),
        ),
    ),
    "still": (
        Cue(
            words(r"standbild", r"einzelbild", r"kein (?:video|film|clip)", r"keine animation", r"nur ein bild"),
            4.0,
            ("ein standbild, kein video", "nur ein bild"),
        ),
    ),
    "out_video": (
        Cue(words(VIDEO_NOUNS, r"zeitlupe"), 1.0, ("erstelle ein video von einem fuchs", "ein kurzfilm in zeitlupe")),
    ),
    "out_image": (
        Cue(words(IMAGE_NOUNS, r"logos?", r"symbol", r"poster"), 1.0, ("ein bild von einem fuchs", "ein gemälde")),
    ),
    "motion": (
        Cue(
            words(
                r"l[äa]uft",
                r"laufen",
                r"rennt",
                r"rennen",
                r"springt",
                r"fliegt",
                r"fliegen",
                r"tanzt",
                r"tanzen",
                r"schwimmt",
                r"f[äa]hrt",
                r"reitet",
                r"f[äa]llt",
                r"dreht sich",
                r"flie[ßs]t",
                r"explodiert",
                r"w[äa]chst",
                r"winkt",
                r"rollt",
                r"galoppiert",
                r"die kamera",
            ),
            1.0,
            ("ein fuchs, der durch den schnee läuft", "ein vogel fliegt über das meer"),
        ),
    ),
    # Control signals named in words (``settings.control_type``).
    "signal_flow": (
        Cue(
            r"\boptisch\w*\s+fluss\w*|\bbewegungsfluss\b|\bkamerabewegung(?:en)?\b",
            examples=("übernimm den optischen Fluss von dem Clip", "die Kamerabewegung als Bewegungsfluss"),
        ),
    ),
    "signal_gray": (
        Cue(
            r"\bgraustufen\w*|\bgrauwerte?\b",
            examples=("Graustufen aus dem Clip als Vorlage", "bitte Graustufen-Steuerung"),
        ),
    ),
    "signal_layout": (
        Cue(
            r"\bbegrenzungsrahmen\b|\bbounding[\s-]*box\w*|\blayout\w*|\banordnung\s+der\s+elemente\b",
            examples=("die Begrenzungsrahmen aus dem Video", "nach der Layoutvorlage"),
        ),
    ),
    "signal_pose": (
        Cue(
            r"\bposen?\w*|\bk[öo]rperhaltung\w*|\bskelett\w*|\bchoreo(?:g|gr)aphie\w*|\bchoreografie\w*"
            r"|\btanz(?:bewegungen|schritte)?\b|\bbewegungen\b|\bschl[üu]sselpunkte\b|\bgeb[äa]rden\b",
            examples=(
                "gleiche Körperhaltung wie die Person auf dem Foto",
                "gleiche Bewegungen wie in export_6.mov",
                "nimm die Tanzbewegungen aus meinem Video",
                "den Tanz aus dem Clip nachmacht",
                "das Skelett nehmen",
            ),
        ),
    ),
    "signal_depth": (
        Cue(
            r"\btiefen\w+|\bdie\s+tiefe\b",
            examples=("nach meiner Tiefenkarte", "das Tiefenvideo als Steuerung"),
        ),
    ),
    "signal_canny": (
        Cue(
            r"\bkanten\w*|\bkonturen?\b|\bumriss\w*|\blinienstruktur\b|\bcanny\b",
            examples=("übernimm die Kanten aus dem Foto", "mit meinem Kanten-Video", "das Kantenvideo kommt gleich"),
        ),
    ),
    "signal_scribble": (
        Cue(
            r"\bkritzel\w*|\bgekritzel\b|\bskizze\w*|\bstrichzeichnung\w*|\blinienzeichnung\w*|\bbleistiftzeichnung\w*",
            examples=("nutze meine Kritzelei als Vorlage", "die Struktur dieser Linienzeichnung", "meine Skizze"),
        ),
    ),
}

LEXICON = Lexicon(language="de", script="latin", cues=CUES, image_nouns=IMAGE_NOUNS, video_nouns=VIDEO_NOUNS)
