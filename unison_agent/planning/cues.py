"""The embedded planner's lexicons: the words and phrases that signal each intent, written as regular
expressions over normalised text (see ``text.normalise``).

Each cue family is a list of ``(pattern, weight)``; ``score(text, family)`` adds up the weights of the
patterns that occur. Keeping the words here, apart from the decision logic, lets the lexicons grow without
touching the rules that combine them.
"""

from __future__ import annotations

import re

__all__ = ["CUES", "MEDIA_NOUN_IMAGE", "MEDIA_NOUN_VIDEO", "MOTION", "OUT_IMAGE", "OUT_VIDEO", "score"]

MEDIA_NOUN_IMAGE = (
    r"photos?|photographs?|pictures?|pics?|images?|imgs?|selfies?|snapshots?|screenshots?|shots?|headshots?|"
    r"portraits?|paintings?|drawings?|illustrations?|artworks?|logos?|posters?|wallpapers?|icons?|stills?|"
    r"renders?|jpe?g|png|webp|画|图片|图像|照片|imagen(?:es)?|fotos?|dibujo"
)
MEDIA_NOUN_VIDEO = (
    r"videos?|clips?|vids?|footage|recordings?|movies?|films?|animations?|gifs?|timelapses?|time-lapses?|reels?|"
    r"tiktoks?|cinemagraphs?|mp4|mov|视频|影片|vídeos?|película"
)

_GEN_VERB = (
    r"make|create|generate|draw|paint|"
    r"render|produce|design|illustrate|visuali[sz]e|imagine|compose an image|shoot|film|craft|build|gimme|"
    r"生成|画|制作|genera|crea|haz|dibuja"
)
_EDIT_VERB = (
    r"change|changes|replace|replacing|remove|removing|erase|delete|get rid of|take out|add|adding|insert|put|"
    r"turn|transform|convert|fix|repair|restore|enhance|retouch|colou?ri[sz]e|sharpen|blur|brighten|darken|"
    r"lighten|extend|outpaint|inpaint|fill|expand|reframe|crop|swap|recolou?r|restyle|stabili[sz]e|clean up|"
    r"cleanup|upscale|edit|modify|adjust|relight|make it|make this|make the|edit this|denoise|straighten|"
    r"level|rotate the|flip|mirror|re-?color|tint|warm up|cool down|desaturate|saturate|blend|overlay|"
    r"paint out|paint over|touch up|retime|speed up|slow down|trim|cut out|mask out|cover|hide"
)
_ANSWER_VERB = (
    r"describe|explain|explian|summari[sz]e|summary|caption|transcribe|translate|count|rate|rank|read|"
    r"identify|compare|analy[sz]e|list|review|critique|judge|evaluate|assess|tell me|estimate|guess|"
    r"recogni[sz]e|detect|find|spot|point out|check|verify|ocr|extract the text|name the|classify|"
    r"what do you think|how would you|how do i|how can i|how to|write|rewrite|draft|compose|give me ideas"
)

Cue = tuple[re.Pattern[str], float]


def _c(*pairs: tuple[str, float]) -> list[Cue]:
    return [(re.compile(p), w) for p, w in pairs]


CUES: dict[str, list[Cue]] = {
    # Asking for an answer in text.
    "question": _c(
        (
            r"^\W*(?:(?:hey|hi|hello|so|ok|okay|quick q(?:uestion)?|btw|um+|hmm+|yo|also)\b[\s,!.:-]*)*"
            r"(?:what|what's|whats|wat|wut|which|who|whom|whose|why|how|where|when|is|are|was|were|does|do|did|"
            r"has|have|should|would|could|will|am|isn't|aren't|doesn't|can)\b",
            2.0,
        ),
        (r"(?:^|[.!?]\s+|,\s*)(?:what|what's|whats|wat|which|who|why|how|where|when)\b[^.!?]*\?", 2.5),
        (r"\?\s*$", 1.0),
        (r"\?\s+\S", 1.0),
        (r"^\W*[¿]", 2.0),
        (r"[吗呢么？]\s*$|是什么|为什么|怎么|多少|哪", 2.0),
        (r"\bany idea\b|\bwondering\b|\bcurious\b|\bi can't remember\b|\bdo you know\b", 1.5),
        (
            r"\b(?:how much|how many|how long|what|why|which|is it|is this|are they|does it|will i|should i)\b"
            r"[^.!?]*\?\s*$",
            2.0,
        ),
        (
            r"\b(?:will|would|does|do|is|are|can|could|should|did|was)\s+(?:it|this|that|they|i|you|he|she|these|those"
            r"|there)\b[^.!?]*\?",
            2.0,
        ),
        (r"\bi'?m planning to\b|\bi plan to\b|\bi want to know\b|\bi'?m wondering\b|\bwill i need\b", 1.5),
    ),
    "answer_verb": _c(
        (
            rf"(?:^|[.!?:]\s*|\b(?:pls|please|can you|could you|would you|just|and|then|also)\s+)(?:{_ANSWER_VERB})\b",
            2.5,
        ),
        # "give me 5 fun activities", "3 key takeaways": a list of things that are not pictures.
        (
            r"\b(?:give me|list|suggest|name|send me|i need|write)\s+(?:\d+|a few|some|three|five|ten|two|four)\s+"
            r"(?:(?!images?\b|pictures?\b|photos?\b|videos?\b|clips?\b|pics?\b|options\b|variations\b|versions\b|"
            r"renders?\b|shots?\b|logos?\b|posters?\b)[\w-]+\s+){0,3}(?:ideas|activities|tips|ways|reasons|names|"
            r"examples|things|questions|facts|suggestions|steps|words|jokes|places|books|recipes|takeaways|points|"
            r"bullets|lines|sentences|titles|captions|slogans|hashtags|arguments|games|songs|movies|options for)\b",
            3.0,
        ),
        (r"\b(?:honest |your )?(?:opinion|feedback|thoughts|verdict|assessment)\b", 1.2),
        (rf"\b(?:{_ANSWER_VERB})\b", 0.8),
        (
            r"\b(?:alt text|timestamps?|transcript|subtitles? for|bullet|bullets|paragraphs?|sentences?|"
            r"haiku|poem|essay|story|email|letter|function|code|script|recipe|ideas|names|list of|shot list|"
            r"step by step|pros and cons|tips|advice|definition|meaning|percentage|how many|how much|how long|"
            r"differences?|difference between|similarities)\b",
            1.2,
        ),
        # Asking for words about the file: "generate a witty caption for this", "come up with a title".
        (
            r"\b(?:generate|create|make|write|come up with|suggest|give me|draft)\s+"
            r"(?:a|an|some|\d+|three|five|ten)?\s*"
            r"(?:(?!image|picture|photo|poster|video|logo|clip|banner)[\w-]+\s+){0,3}(?:captions?|titles?|descriptions?|"
            r"alt text|hashtags?|taglines?|slogans?|summary|poem|story|tweet|bio|names?|ideas|questions|quiz|"
            r"transcript|subtitles|lyrics|headlines?)(?=\s+(?:for|about|of|that|to|on|in|from|based)\b|\s*[,.!?;:]|\s*$)",
            4.0,
        ),
        (r"\b(?:a|an|the|good|better|detailed)\s+(?:\w+\s+){0,3}prompt\s+for\b", 2.5),
        (
            r"\b(?:give|write|send|get) me (?:a|an|the|some|\d+)\s+(?:[\w-]+\s+)?(?:summary|description|caption|list|"
            r"breakdown|explanation|transcript|review|analysis|overview|rundown|feedback|critique)\b",
            2.5,
        ),
    ),
    # Saying outright that no media is wanted, or that nothing should change.
    "text_only": _c(
        (
            r"\bjust (?:the )?text\b|\btext only\b|\bonly text\b|\bno need to draw\b"
            r"|\bno (?:pictures?|images?|videos?|drawings?)(?: (?:needed|necessary|required|please|pls))?"
            r"\s*(?:[,.!;]|$)"
            r"|\b(?:don't|do not|dont) (?:want|need) (?:a|an|any) (?:video|image|picture|pic|clip|drawing)\b"
            r"|\bin words\b|\bno (?:pictures?|images?|videos?) needed\b",
            4.0,
        ),
        (
            r"\b(?:don't|do not|dont|without) (?:want to |need to |wanna |need you to )?"
            r"(?:change|changing|edit|editing|fix|fixing|modify|touch|alter)\w*"
            r"(?: anything)?\b|\bjust (?:tell|check|explain|describe|answer)\b|\bonly (?:tell|describe)\b",
            4.0,
        ),
    ),
    # Asking for media to be made.
    "gen": _c(
        (rf"\b(?:{_GEN_VERB})\b", 1.5),
        (rf"\b(?:can|could|would|will) (?:you|u|ya) (?:please |pls )?(?:{_GEN_VERB}|{_EDIT_VERB})\b", 2.5),
        (
            rf"(?<!these )(?<!those )(?<!the )(?<!both )(?<!my )\b(?:a|an|new|brand[- ]new|another|some|\d+|two|three|"
            rf"four)\s+(?:\w+\s+){{0,2}}"
            rf"(?:{MEDIA_NOUN_IMAGE}|{MEDIA_NOUN_VIDEO})\b",
            1.0,
        ),
        (
            rf"^\W*(?:{MEDIA_NOUN_IMAGE}|{MEDIA_NOUN_VIDEO}|logo|pic pls|image of|video of|picture of)\b\s*"
            r"(?:pls|please|plz)?\s*[:,-]",
            3.0,
        ),
        (
            r"\b(?:give me|show me|i want|i need|i'd like|send me|gimme)\s+(?:a|an|some|\d+|two|three|four)\s+"
            r"(?:[\w-]+\s+){0,3}(?:image|picture|pic|photo|video|clip|render|version|variation|option|shot|headshot|"
            r"logo|animation|wallpaper|poster|illustration)s?\b",
            3.0,
        ),
        (r"\bnot (?:a|an) (?:description|text|explanation|answer)\b|\ban actual (?:image|picture|video)\b", 4.0),
        (r"\b(?:generate|make|create|draw|render|paint)\s*:", 2.0),
        (r"\banimate\b|\bbring (?:\w+ ){0,5}to life\b", 2.5),
        # "vertical 1080p image of a neon sign": a picture described is a picture asked for.
        (
            r"\b(?:image|picture|photo|pic|video|clip|illustration|painting|render|drawing|poster|animation|shot) of "
            r"(?:a|an|the|some|two|three|\d+)\b",
            1.5,
        ),
    ),
    "edit": _c(
        (
            rf"(?:^|[.!?,:;]\s*|\b(?:pls|plz|please|can you|could you|just|cn you|cn u|and|now|then)\s+)"
            rf"(?:(?:actually|also|just|really|kindly|quickly|simply)\s+)?(?:{_EDIT_VERB})\b",
            2.0,
        ),
        (rf"\b(?:{_EDIT_VERB}) (?:it|this|that|them)\b(?! (?:is|was|looks|has)\b)", 1.0),
        (r"\b(?:same|the original) (?:video|clip|photo|picture|image|footage)\b|\brestyled?\b|\bre-style\b", 3.0),
        (rf"\b(?:{_EDIT_VERB})\b", 0.8),
        (
            r"\bkeep (?:everything|the rest|all|it all) (?:else )?(?:the same|exactly|unchanged|as is|intact)?"
            r"|\beverything else (?:the same|unchanged|stays)|\bkeep the rest\b",
            3.0,
        ),
        (r"\b(?:background|sky|lighting|watermark|red eye|blemish\w*|colou?rs?|season|weather|time of day)\b", 0.6),
        (
            r"\bmake (?:it|this|the \w+|my \w+|her \w+|his \w+) (?:look|more|less|brighter|darker|warmer|cooler|"
            r"sharper|black|into)\b",
            2.0,
        ),
        # "make her hair blonde", "make the car red": a change of state of something already there.
        (
            r"\bmake (?:her|his|their|its|my|our|the|this|that) [\w-]+ (?!(?:of|in|on|with|for|from|a|an|the|to|into|"
            r"and|as|at|by|doing|playing|wearing|holding|sitting|standing|riding|walking|running)\b)[a-z-]{3,}\b",
            2.0,
        ),
        (
            r"\bgive (?:it|this|her|him|them|the \w+) (?:a|an|some) (?:[\w-]+ ){0,3}(?:look|style|vibe|feel|makeover|"
            r"tint|glow|filter|treatment|finish|haircut|hat|smile)\b",
            2.5,
        ),
        (r"\b(?:into|to) (?:a |an )?(?:\w+ )?(?:painting|sketch|cartoon|anime|style)\b", 0.5),
        (r"\bin (?:the|this) (?:photo|picture|image|pic|video|clip|vid|footage|timelapse)\b", 1.0),
        (r"\bin (?:the )?(?:masked|white) (?:area|region|part)\b|\bwhere the mask is\b|\binside the mask\b", 3.0),
        (
            r"\b(?:on all sides|outpaint\w*|inpaint\w*|fill in the sides|"
            r"extend\w* the (?:top|bottom|sides|left|right))",
            2.0,
        ),
    ),
    "reference": _c(
        (
            r"\b(?:in|with) the (?:same )?(?:art |painting |visual )?style (?:of|as)\b|\bsame (?:art )?style\b"
            r"|\bstyle of (?:the |this |my )?(?:attached|reference|ref)\b|\buse (?:the|this) style\b",
            4.0,
        ),
        (
            r"\b(?:keep|use|preserve|with) (?:this|his|her|their|my|our|the same) (?:face|faces|identity|likeness)\b"
            r"|\b(?:use|using) (?:our|my|their|his|her) faces?\b|\bidentity\b",
            4.0,
        ),
        (
            r"\b(?:passport|visa|id|linkedin|profile|id card|driver'?s? licen[cs]e) (?:photo|picture|pic|headshot)\b"
            r"|\bheadshot of (?:this|me|my)\b|\bprofessional headshot\b",
            3.5,
        ),
        (
            r"\b(?:of|with) me\b|\bof myself\b|\bbased on (?:my|this|the)\b|\b(?:from|using) (?:my|this|the attached)"
            r" (?:photo|picture|pic|selfie|image)\b|\bfrom (?:my|this|the) (?:photo|selfie)\b",
            2.5,
        ),
        (
            r"\b(?:this|the|my) (?:exact )?(?:character|person|guy|girl|boy|man|woman|lady|kid|child|baby|toy|"
            r"figurine|figure|product|mug|cup|sneaker|shoe|shoes|bottle|plush|mascot|logo|singer|pet|puppy|kitten|"
            r"doll|robot|car|bag|watch|item|object|model|actor|dancer|friend|grandma|grandpa|mom|dad|face|outfit)"
            r"\b",
            1.0,
        ),
        (
            r"\b(?:brand[- ]new|new|another|fresh|different) (?:image|picture|pic|photo|scene|video|clip|shot|one)\b",
            2.0,
        ),
        (
            r"\bthe star of\b|\bfeaturing\b|\bstarring\b|\bas the (?:\w+ )?(?:in|hero|main character)\b"
            r"|\bmake (?:the|my) \w+ (?:in|from) (?:this|my|the) \w+ the\b",
            2.0,
        ),
        (
            r"\b(?:doesn't|does not|don't|do not|dont|doesnt) (?:need|have) to start\b|\bnot start from\b"
            r"|\b(?:don't|do not|dont|no need to) (?:start|begin)\b",
            4.0,
        ),
        (r"\b(?:ref|reference|ref sheet|character sheet|model sheet)\b", 1.5),
        (r"\buse (?:my|his|her|their|our|the|this) (?:\w+'s )?(?:photo|picture|pic|selfie|image|headshot)\b", 2.5),
        (
            r"\b(?:put|place|insert|show|feature) (?:this|my|the attached|our|these) (?:[\w-]+ ){0,5}(?:\(attached\) )?"
            r"(?:on|in|into|onto|inside|at|next to) (?:a|an|the)\b",
            3.5,
        ),
        (r"\bproduct (?:shot|photo|photography)\b|\b(?:on|in|at|next to|holding|riding|wearing|sitting) ", 0.3),
        (
            r"\buse (?:the \w+ )?(?:from|in) \S+\.(?:png|jpe?g|webp)\b|\bfrom \S+\.(?:png|jpe?g|webp)\b"
            r"|\bin \S+\.(?:png|jpe?g|webp) (?:and|for|as)\b",
            1.5,
        ),
    ),
    "i2v": _c(
        (r"\banimate\b|\banimating\b|\bbring (?:\w+ ){0,6}to life\b|\bcinemagraph\b|\blive photo\b", 4.0),
        # Other languages: "anime cette photo", "anima esta foto", "让这张照片动起来".
        (
            r"\b(?:anime|animez|anima|animar|animer|animiere|animieren)\s+(?:cette|cet|ce|la|le|les|ma|mon|mes|esta|este|"
            r"mi|mis|la|el|diese|dieses|das|mein|meine|questa|questo)\b|动起来|动画化",
            4.0,
        ),
        (r"\bmake (?:it|this|the|my) (?:\w+ ){0,2}(?:move|moving|come alive|alive)\b", 4.0),
        (
            r"\b(?:first|last|start|starting|end|ending|final|opening|closing|initial|begin|beginning) "
            r"(?:and (?:the )?(?:last|end|final|closing) )?(?:frames?|image|keyframe)\b",
            3.5,
        ),
        (r"\b(?:as|is) the (?:first|last|start|end|opening|closing|final)\b", 3.0),
        (
            r"\b(?:be|is|as) the (?:end|ending|last|final|start|beginning|first|opening) (?:of|in) the "
            r"(?:video|clip|animation)\b|\bi2v\b|\bimg2vid\b|\bflf2v\b|\bimage[- ]to[- ]video\b"
            r"|\b(?:first|start|last|end)\s*=\s*\S+\.(?:png|jpe?g|webp)\b",
            4.0,
        ),
        (
            r"\bfrom (?:my |the )?first (?:[\w-]+ )?to (?:my |the )?(?:second|last|next)\b|\bmorph\w* (?:from|into)\b",
            3.5,
        ),
        (
            r"\b(?:is|as) (?:where|how) (?:it|the video|the clip|the animation) (?:starts|begins|ends|finishes|stops)\b"
            r"|\bturn (?:this|it|the \w+|my \w+) into (?:a |an )?(?:[\w-]+ ){0,3}(?:video|clip|animation|gif)\b",
            3.5,
        ),
        (
            r"\bstart(?:s|ing)? (?:the video |the clip |it )?(?:from|with|on) (?:exactly )?(?:this|my|the)\b"
            r"|\bend(?:s|ing)? (?:the video |it )?(?:on|with|at) (?:this|my|the)\b|\bend on\b|\bfinish(?:es)? on\b",
            3.5,
        ),
        (
            r"\bkeyframes?\b|\binterpolat\w*\b|\bin between\b|\bmorph\w* between\b|\b(?:go|goes|move|moves|blend|"
            r"blends|transition|transitions) (?:\w+ )?between (?:these|the|my) two\b"
            r"|\bfrom my first (?:photo|image|picture|pic) to\b|\btransition between\b|\bgoes from\b",
            3.5,
        ),
    ),
    # Saying outright that the attached picture is NOT a starting frame.
    "not_i2v": _c(
        (
            r"\bno (?:image|picture|photo) to start from\b|\b(?:doesn't|does not|don't|dont) (?:need|have) to start"
            r"\b|\bnot (?:start|begin) (?:from|with)\b|\bjust make it up\b"
            r"|\b(?:don't|do not|dont|no need to) (?:start|begin) (?:from|with|on)\b",
            5.0,
        ),
    ),
    "control": _c(
        (
            r"\b(?:follow|follows|following|folow|copy|copies|copying|match|matching|mimic|mimics|use|using|"
            r"extract|take|takes) (?:the |this |my |its |these )?(?:exact |same )?(?:pose|poses|depth|edges?|canny|"
            r"motion|movement|moves|dance moves|layout|structure|composition|outline|optical flow|flow|scribble|"
            r"sketch|skeleton|skeletons|stick-figure pose|grayscale|greyscale)\b",
            4.0,
        ),
        # "keep the composition" is also said of a restyle (an edit); only a named signal counts here.
        (
            r"\bkeep (?:the |this |its )?(?:exact |same )?(?:pose|poses|depth|edges|canny|layout|motion|skeleton|"
            r"optical flow|moves)\b",
            4.0,
        ),
        (r"\b(?:follow|follows|following|folow) (?:this|it|my|the|these)\b|\bfollowing it\b", 2.5),
        (
            r"\b(?:pose|depth|canny|edge|edges|scribble|sketch|layout|flow|gray|grey|grayscale) control\b"
            r"|\bcontrol (?:video|image|map|signal)\b|\bas (?:the )?(?:control|structure guide|guide)\b"
            r"|\bstructure guide\b|\bas control\b"
            r"|\bas (?:the |a )?(?:structure|guide|blueprint|skeleton) (?:for|of|to)\b",
            4.0,
        ),
        (
            r"\bmake (?:it|this|them) (?:into )?(?:a |an )?(?:real|realistic|photorealistic|finished|proper|detailed|"
            r"full[- ]colou?r|rendered|3d)\b",
            2.0,
        ),
        (
            r"\b(?:depth|pose|poses|edges|outline|motion|moves|layout) (?:of|from|in) (?:this|the|my|that|it)\b"
            r"|\b(?:same|this|exactly this|these) (?:pose|poses|outline|layout|moves|motion)\b|\bdoing these moves\b",
            3.5,
        ),
        (
            r"\b(?:turn|make|convert|transform) (?:this|my|the) (?:\w+ )?(?:sketch|scribble|doodle|drawing|line art)"
            r" into\b|\b(?:sketch|scribble|doodle|drawing) (?:into|to) a\b",
            3.5,
        ),
        (
            r"\b(?:real|realistic|finished|photorealistic|real-looking) (?:photo|picture|image|illustration|render)\b",
            1.0,
        ),
        (
            r"\b(?:turn|make|convert|transform|render) (?:it|this|them) (?:into|as) (?:a |an )?(?:[\w-]+ )?"
            r"(?:real|realistic|real-looking|photorealistic|proper|finished|glossy|photo|picture|render)\b"
            r"|\b(?:sketch|scribble|doodle|drawing|lineart|line art)\s*(?:->|=>|→)|\bdrew (?:this|it|these)\b",
            3.0,
        ),
        (r"\bnew video\b|\bbrand[- ]new video\b", 0.8),
    ),
    # Naming a kind of control file: says what a file is, not what to do with it ("was this edge map made
    # with canny?" asks about one).
    "control_words": _c(
        (
            r"\b(?:depth|pose|canny|edge|normal|segmentation) (?:map|video|pass|sequence|image|maps)\b"
            r"|\bskeleton (?:video|image|sequence)?\b|\bopenpose\b|\bstick[- ]figure\b|\bbounding[- ]box\b"
            r"|\boptical flow\b|\bcanny\b|\bdepth map\b",
            3.0,
        ),
    ),
    "text_to_x": _c((r"\bt2v\b|\bt2i\b|\btext[- ]to[- ](?:image|video)\b|\btxt2(?:img|vid)\b", 4.0)),
    "still": _c(
        (
            r"\bstill (?:image|picture|photo|frame|shot)\b|\bimage,? not (?:a |an )?(?:animation|video|clip)\b"
            r"|\bnot (?:a |an )?(?:animation|video|clip|moving)\b|\bsingle (?:image|frame)\b|\bfrozen\b",
            4.0,
        ),
    ),
}

# Output medium: explicit words for what is to be made.
OUT_VIDEO = re.compile(
    r"\b(?:video|videos|clip|clips|vid|vids|animation|animated|movie|film|footage|timelapse|time-lapse|gif|reel|"
    r"tiktok|short film|music video|cinemagraph|trailer|loop|slow[- ]?motion|slo-?mo|b-roll|ad video|"
    r"flythrough|fly-through|walkthrough|flyover|fly-over|flyby|fly-by|drone shot)\b|视频|影片|动画|vídeo|película"
)
OUT_IMAGE = re.compile(
    r"\b(?:image|images|picture|pictures|pic|pics|photo|photos|photograph|illustration|painting|drawing|"
    r"poster|logo|wallpaper|icon|headshot|portrait|artwork|still|render|sticker|book cover|cover art|"
    r"album cover|thumbnail|banner|meme|img|imgs|product shot)\b|图片|图像|照片|画|imagen|foto"
)
# Verbs of movement: a prompt with one and no medium word most likely describes a clip.
MOTION = re.compile(
    r"\b(?:walk|walks|walking|run|runs|running|jump|jumps|jumping|leap|leaps|leaping|fly|flies|flying|dance|"
    r"dances|dancing|swim|swims|swimming|drive|drives|driving|ride|rides|fall|falls|falling|flow|flows|flowing|"
    r"spin|spins|spinning|rotate|rotates|rotating|zoom|zooms|zooming|pan|pans|panning|move|moves|moving|"
    r"chase|chases|chasing|gallop|gallops|galloping|cruise|cruises|cruising|zip|zips|zipping|drift|drifts|"
    r"drifting|splash|splashes|splashing|explode|explodes|exploding|launch|launches|launching|bloom|blooms|"
    r"blooming|grow|grows|growing|wave|waves|waving|play|plays|playing|surf|surfs|surfing|roll|rolls|rolling|"
    r"sway|sways|swaying|crash|crashes|crashing|pour|pours|pouring|rushes|emerges|takes off|lands|"
    r"flapping|marching|sprinting|skating|skateboarding|climbing|turns around|camera)\b"
)


def score(text: str, family: str) -> float:
    """Sum of the weights of the ``family`` cues found in ``text``."""
    return sum(w for pattern, w in CUES[family] if pattern.search(text))
