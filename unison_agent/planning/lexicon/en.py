"""English cues. Language-neutral punctuation ("?", "t2v") lives here too: English is read on every request."""

from __future__ import annotations

from unison_agent.planning.lexicon import Cue, Lexicon

IMAGE_NOUNS = (
    r"photos?|photographs?|pictures?|pics?|images?|imgs?|selfies?|snapshots?|screenshots?|shots?|headshots?|"
    r"portraits?|paintings?|drawings?|illustrations?|artworks?|logos?|posters?|wallpapers?|icons?|stills?|"
    r"renders?|jpe?g|png|webp"
)
VIDEO_NOUNS = (
    r"videos?|clips?|vids?|footage|recordings?|movies?|films?|animations?|gifs?|timelapses?|time-lapses?|reels?|"
    r"tiktoks?|cinemagraphs?|mp4|mov"
)

_GEN_VERB = (
    r"make|create|generate|draw|paint|render|produce|design|illustrate|visuali[sz]e|imagine|compose an image|shoot|"
    r"film|craft|build|gimme"
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
    r"describe|explain|summari[sz]e|summary|caption|transcribe|translate|count|rate|rank|read|"
    r"identify|compare|analy[sz]e|list|review|critique|judge|evaluate|assess|tell me|estimate|guess|"
    r"recogni[sz]e|detect|find|spot|point out|check|verify|ocr|extract the text|name the|classify|"
    r"what do you think|how would you|how do i|how can i|how to|write|rewrite|draft|compose|give me ideas"
)

CUES: dict[str, tuple[Cue, ...]] = {
    "text_to_x": (
        Cue(
            r"\bt2v\b|\bt2i\b|\btext[- ]to[- ](?:image|video)\b|\btxt2(?:img|vid)\b",
            4.0,
            ("t2v: a fox in the snow", "text-to-image, a red barn", "txt2img prompt: harbor at night"),
        ),
    ),
    # Asking for an answer in text.
    "question": (
        Cue(
            r"^\W*(?:(?:hey|hi|hello|so|ok|okay|quick q(?:uestion)?|btw|um+|hmm+|yo|also)\b[\s,!.:-]*)*"
            r"(?:what|what's|whats|wat|wut|which|who|whom|whose|why|how|where|when|is|are|was|were|does|do|did|"
            r"has|have|should|would|could|will|am|isn't|aren't|doesn't|can)\b",
            2.0,
            ("what's in this photo", "hey quick q - why is the sky blue", "is this a real painting", "how old is he"),
            ("make a photo of a cat",),
        ),
        Cue(
            r"(?:^|[.!?]\s+|,\s*)(?:what|what's|whats|wat|which|who|why|how|where|when)\b[^.!?]*\?",
            2.5,
            ("nice shot. what lens was this taken with?", "ok, which one is sharper?"),
        ),
        # Punctuation is read in every language: "这是什么?" and "¿qué es esto?" end the same way.
        Cue(r"\?\s*$", 1.0, ("this is fake, right?", "这是真的吗?")),
        Cue(r"\?\s+\S", 1.0, ("is it real? tell me", "what breed? i can't tell")),
        Cue(
            r"\bany idea\b|\bwondering\b|\bcurious\b|\bi can't remember\b|\bdo you know\b",
            1.5,
            ("any idea where this was taken", "i'm curious what bird this is", "do you know who painted it"),
        ),
        Cue(
            r"\b(?:how much|how many|how long|what|why|which|is it|is this|are they|does it|should i)\b"
            r"[^.!?]*\?\s*$",
            2.0,
            ("i took this yesterday, how many birds are there?", "honestly, is this good enough for print?"),
        ),
        Cue(
            r"\b(?:will|would|does|do|is|are|can|could|should|did|was)\s+(?:it|this|that|they|i|you|he|she|these|those"
            r"|there)\b[^.!?]*\?",
            2.0,
            ("my friend says does this look edited?", "tell me, are these the same person?"),
        ),
        Cue(
            r"\bi want to know\b|\bi'?m wondering\b",
            1.5,
            ("i want to know what this plant is", "i'm wondering if this photo was edited"),
        ),
    ),
    "answer_verb": (
        Cue(
            rf"(?:^|[.!?:]\s*|\b(?:pls|please|can you|could you|would you|just|and|then|also)\s+)(?:{_ANSWER_VERB})\b",
            2.5,
            ("describe this photo", "can you summarize the clip", "nice pic. translate the sign", "please count them"),
            ("a caption-less poster of a fox",),
        ),
        # "give me 5 fun activities", "3 key takeaways": a list of things that are not pictures.
        Cue(
            r"\b(?:give me|list|suggest|name|send me|i need|write)\s+(?:\d+|a few|some|three|five|ten|two|four)\s+"
            r"(?:(?!images?\b|pictures?\b|photos?\b|videos?\b|clips?\b|pics?\b|options\b|variations\b|versions\b|"
            r"renders?\b|shots?\b|logos?\b|posters?\b)[\w-]+\s+){0,3}(?:ideas|activities|tips|ways|reasons|names|"
            r"examples|things|questions|facts|suggestions|steps|words|jokes|places|books|recipes|takeaways|points|"
            r"bullets|lines|sentences|titles|captions|slogans|hashtags|arguments|games|songs|movies|options for)\b",
            3.0,
            ("give me 5 fun activities for a rainy day", "suggest three catchy names for my bakery"),
            ("give me 4 photos of a cat",),
        ),
        Cue(
            r"\b(?:honest |your )?(?:opinion|feedback|thoughts|verdict|assessment)\b",
            1.2,
            ("i'd love your honest opinion on this", "any feedback on the lighting"),
        ),
        Cue(rf"\b(?:{_ANSWER_VERB})\b", 0.8, ("i'd like you to describe it", "we should compare both versions")),
        Cue(
            r"\b(?:alt text|timestamps?|transcript|subtitles? for|bullet|bullets|paragraphs?|sentences?|"
            r"haiku|poem|essay|story|email|letter|function|code|script|recipe|ideas|names|list of|shot list|"
            r"step by step|pros and cons|tips|advice|definition|meaning|percentage|how many|how much|how long|"
            r"differences?|difference between|similarities)\b",
            1.2,
            ("a haiku about autumn rain", "alt text for this image", "the pros and cons of film cameras"),
        ),
        # Asking for words about the file: "generate a witty caption for this", "come up with a title".
        Cue(
            r"\b(?:generate|create|make|write|come up with|suggest|give me|draft)\s+"
            r"(?:a|an|some|\d+|three|five|ten)?\s*"
            r"(?:(?!image|picture|photo|poster|video|logo|clip|banner)[\w-]+\s+){0,3}(?:captions?|titles?|"
            r"descriptions?|alt text|hashtags?|taglines?|slogans?|summary|poem|story|tweet|bio|names?|ideas|"
            r"questions|quiz|transcript|subtitles|lyrics|headlines?)"
            r"(?=\s+(?:for|about|of|that|to|on|in|from|based)\b|\s*[,.!?;:]|\s*$)",
            4.0,
            ("generate a witty caption for this", "come up with a title for my vlog", "create 3 hashtags."),
            ("generate a poster for my band",),
        ),
        Cue(
            r"\b(?:a|an|the|good|better|detailed)\s+(?:\w+\s+){0,3}prompt\s+for\b",
            2.5,
            ("write me a good stable diffusion prompt for a city", "i need a detailed prompt for midjourney"),
        ),
        Cue(
            r"\b(?:give|write|send|get) me (?:a|an|the|some|\d+)\s+(?:[\w-]+\s+)?(?:summary|description|caption|list|"
            r"breakdown|explanation|transcript|review|analysis|overview|rundown|feedback|critique)\b",
            2.5,
            ("give me a short summary of this clip", "write me a detailed description"),
        ),
    ),
    # Saying outright that no media is wanted, or that nothing should change.
    "text_only": (
        Cue(
            r"\bjust (?:the )?text\b|\btext only\b|\bonly text\b|\bno need to draw\b"
            r"|\bno (?:pictures?|images?|videos?|drawings?)(?: (?:needed|necessary|required|please|pls))?"
            r"\s*(?:[,.!;]|$)"
            r"|\b(?:don't|do not|dont) (?:want|need) (?:a|an|any) (?:video|image|picture|pic|clip|drawing)\b"
            r"|\bin words\b|\bno (?:pictures?|images?|videos?) needed\b",
            4.0,
            ("a prompt for a foggy harbor, text only", "just the text, please", "describe a dragon, no images."),
        ),
        Cue(
            r"\b(?:don't|do not|dont|without) (?:want to |need to |wanna |need you to )?"
            r"(?:change|changing|edit|editing|fix|fixing|modify|touch|alter)\w*"
            r"(?: anything)?\b|\bjust (?:tell|check|explain|describe|answer)\b|\bonly (?:tell|describe)\b",
            4.0,
            ("don't change anything, just tell me what's wrong", "without editing it, rate the composition"),
        ),
    ),
    # Asking for media to be made.
    "gen": (
        Cue(rf"\b(?:{_GEN_VERB})\b", 1.5, ("create a logo for my bakery", "paint me a foggy harbor")),
        Cue(
            rf"\b(?:can|could|would|will) (?:you|u|ya) (?:please |pls )?(?:{_GEN_VERB}|{_EDIT_VERB})\b",
            2.5,
            ("can you make a poster", "could u please remove the car"),
        ),
        Cue(
            rf"(?<!these )(?<!those )(?<!the )(?<!both )(?<!my )\b(?:a|an|new|brand[- ]new|another|some|\d+|two|three|"
            rf"four)\s+(?:\w+\s+){{0,2}}"
            rf"(?:{IMAGE_NOUNS}|{VIDEO_NOUNS})\b",
            1.0,
            ("a cozy watercolor painting of a cabin", "two short clips of waves"),
            ("compare the two photos",),
        ),
        Cue(
            rf"^\W*(?:{IMAGE_NOUNS}|{VIDEO_NOUNS}|image of|video of|picture of)\b\s*(?:pls|please|plz)?\s*[:,-]",
            3.0,
            ("logo: a fox head, flat", "video please: waves at dusk", "picture of: a barn, oil paint"),
        ),
        Cue(
            r"\b(?:give me|show me|i want|i need|i'd like|send me|gimme)\s+(?:a|an|some|\d+|two|three|four)\s+"
            r"(?:[\w-]+\s+){0,3}(?:image|picture|pic|photo|video|clip|render|version|variation|option|shot|headshot|"
            r"logo|animation|wallpaper|poster|illustration)s?\b",
            3.0,
            ("i'd like an illustration of a dragon", "give me 3 variations", "show me a video of a storm"),
        ),
        Cue(
            r"\bnot (?:a|an) (?:description|text|explanation|answer)\b|\ban actual (?:image|picture|video)\b",
            4.0,
            ("draw it, not a description", "i want an actual image of the scene"),
        ),
        Cue(r"\b(?:generate|make|create|draw|render|paint)\s*:", 2.0, ("generate: a red fox", "draw : owls")),
        Cue(r"\banimate\b|\bbring (?:\w+ ){0,5}to life\b", 2.5, ("animate a paper plane", "bring the robot to life")),
        # "vertical 1080p image of a neon sign": a picture described is a picture asked for.
        Cue(
            r"\b(?:image|picture|photo|pic|video|clip|illustration|painting|render|drawing|poster|animation|shot) of "
            r"(?:a|an|the|some|two|three|\d+)\b",
            1.5,
            ("vertical 1080p image of a neon sign", "animation of a paper plane"),
        ),
    ),
    "edit": (
        Cue(
            rf"(?:^|[.!?,:;]\s*|\b(?:pls|plz|please|can you|could you|just|and|now|then)\s+)"
            rf"(?:(?:actually|also|just|really|kindly|quickly|simply)\s+)?(?:{_EDIT_VERB})\b",
            2.0,
            ("remove the logo in the corner", "nice. now make the sky purple", "please just crop it square"),
        ),
        Cue(
            rf"\b(?:{_EDIT_VERB}) (?:it|this|that|them)\b(?! (?:is|was|looks|has)\b)",
            1.0,
            ("i want you to brighten it a bit", "could you fix this"),
            ("what makes it look fake",),
        ),
        Cue(
            r"\b(?:same|the original) (?:video|clip|photo|picture|image|footage)\b|\brestyled?\b|\bre-style\b",
            3.0,
            ("same video but in winter", "the original photo, restyled as a comic"),
        ),
        Cue(rf"\b(?:{_EDIT_VERB})\b", 0.8, ("i'd like to remove the wires", "maybe swap the background")),
        Cue(
            r"\bkeep (?:everything|the rest|all|it all) (?:else )?(?:the same|exactly|unchanged|as is|intact)?"
            r"|\beverything else (?:the same|unchanged|stays)|\bkeep the rest\b",
            3.0,
            ("purple sky, keep everything else the same", "a red car; keep the rest"),
        ),
        Cue(
            r"\b(?:background|sky|lighting|watermark|red eye|blemish\w*|colou?rs?|season|weather|time of day)\b",
            0.6,
            ("winter season instead", "fix the red eye", "a cleaner background"),
        ),
        Cue(
            r"\bmake (?:it|this|the \w+|my \w+|her \w+|his \w+) (?:look|more|less|brighter|darker|warmer|cooler|"
            r"sharper|black|into)\b",
            2.0,
            ("make it look like a film photo", "make the sky darker"),
        ),
        # "make her hair blonde", "make the car red": a change of state of something already there.
        Cue(
            r"\bmake (?:her|his|their|its|my|our|the|this|that) [\w-]+ (?!(?:of|in|on|with|for|from|a|an|the|to|into|"
            r"and|as|at|by|doing|playing|wearing|holding|sitting|standing|riding|walking|running)\b)[a-z-]{3,}\b",
            2.0,
            ("make her hair blonde", "make the car red"),
            ("make the cat wearing a hat",),
        ),
        Cue(
            r"\bgive (?:it|this|her|him|them|the \w+) (?:a|an|some) (?:[\w-]+ ){0,3}(?:look|style|vibe|feel|makeover|"
            r"tint|glow|filter|treatment|finish|haircut|hat|smile)\b",
            2.5,
            ("give it a cyberpunk look", "give her a short haircut"),
        ),
        Cue(
            r"\b(?:into|to) (?:a |an )?(?:\w+ )?(?:painting|sketch|cartoon|anime|style)\b",
            0.5,
            ("turn it into an oil painting", "change it to anime style"),
        ),
        Cue(
            r"\bin (?:the|this) (?:photo|picture|image|pic|video|clip|vid|footage|timelapse)\b",
            1.0,
            ("the dog in the photo should be white", "the sky in this clip is dull"),
        ),
        Cue(
            r"\bin (?:the )?(?:masked|white) (?:area|region|part)\b|\bwhere the mask is\b|\binside the mask\b",
            3.0,
            ("a cat in the masked area", "put flowers where the mask is"),
        ),
        Cue(
            r"\b(?:on all sides|outpaint\w*|inpaint\w*|fill in the sides|"
            r"extend\w* the (?:top|bottom|sides|left|right))",
            2.0,
            ("extend the sides to 16:9", "outpainting on all sides"),
        ),
    ),
    "reference": (
        Cue(
            r"\b(?:in|with) the (?:same )?(?:art |painting |visual )?style (?:of|as)\b|\bsame (?:art )?style\b"
            r"|\bstyle of (?:the |this |my )?(?:attached|reference|ref)\b|\buse (?:the|this) style\b",
            4.0,
            ("in the style of this picture: a harbor", "same art style, but a castle", "use this style for a logo"),
        ),
        Cue(
            r"\b(?:keep|use|preserve|with) (?:this|his|her|their|my|our|the same) (?:face|faces|identity|likeness)\b"
            r"|\b(?:use|using) (?:our|my|their|his|her) faces?\b|\bidentity\b",
            4.0,
            ("keep her face, put her on a beach", "using our faces, make a wedding poster"),
        ),
        Cue(
            r"\b(?:passport|visa|id|linkedin|profile|id card|driver'?s? licen[cs]e) (?:photo|picture|pic|headshot)\b"
            r"|\bheadshot of (?:this|me|my)\b|\bprofessional headshot\b",
            3.5,
            ("a linkedin headshot from my selfie", "make a passport photo of me"),
        ),
        Cue(
            r"\b(?:of|with) me\b|\bof myself\b|\bbased on (?:my|this|the)\b|\b(?:from|using) (?:my|this|the attached)"
            r" (?:photo|picture|pic|selfie|image)\b|\bfrom (?:my|this|the) (?:photo|selfie)\b",
            2.5,
            ("a cartoon of me as a pirate", "based on my sketch, a poster", "a portrait from my selfie"),
        ),
        Cue(
            r"\b(?:this|the|my) (?:exact )?(?:character|person|guy|girl|boy|man|woman|lady|kid|child|baby|toy|"
            r"figurine|figure|product|mug|cup|sneaker|shoe|shoes|bottle|plush|mascot|logo|singer|pet|puppy|kitten|"
            r"doll|robot|car|bag|watch|item|object|model|actor|dancer|friend|grandma|grandpa|mom|dad|face|outfit)"
            r"\b",
            1.0,
            ("this exact teddy bear... no, this toy", "my mascot at the beach"),
        ),
        Cue(
            r"\b(?:brand[- ]new|new|another|fresh|different) (?:image|picture|pic|photo|scene|video|clip|shot|one)\b",
            2.0,
            ("a new photo of this mug", "a different scene with the same guy"),
        ),
        Cue(
            r"\bfeaturing\b|\bstarring\b|\bas the (?:\w+ )?(?:in|hero|main character)\b"
            r"|\bmake (?:the|my) \w+ (?:in|from) (?:this|my|the) \w+ the\b",
            2.0,
            ("a comic starring my cat", "my dog as the hero of a movie poster", "make the cat in this photo the king"),
        ),
        Cue(
            r"\b(?:doesn't|does not|don't|do not|dont|doesnt) (?:need|have) to start\b|\bnot start from\b"
            r"|\b(?:don't|do not|dont|no need to) (?:start|begin)\b",
            4.0,
            ("a video of him surfing, it doesn't have to start from this picture", "no need to start on it"),
        ),
        Cue(
            r"\b(?:ref|reference|ref sheet|character sheet|model sheet)\b",
            1.5,
            ("use the ref for the outfit", "from this character sheet"),
        ),
        Cue(
            r"\buse (?:my|his|her|their|our|the|this) (?:\w+'s )?(?:photo|picture|pic|selfie|image|headshot)\b",
            2.5,
            ("use my selfie for the astronaut", "use her photo as the face"),
        ),
        Cue(
            r"\b(?:put|place|insert|show|feature) (?:this|my|the attached|our|these) (?:[\w-]+ ){0,5}(?:\(attached\) )?"
            r"(?:on|in|into|onto|inside|at|next to) (?:a|an|the)\b",
            3.5,
            ("put this sneaker on a mountain top", "place my plush (attached) in a cozy kitchen"),
        ),
        Cue(
            r"\bproduct (?:shot|photo|photography)\b|\b(?:on|in|at|next to|holding|riding|wearing|sitting) ",
            0.3,
            ("a product shot on marble", "the toy sitting on a shelf"),
        ),
        Cue(
            r"\buse (?:the \w+ )?(?:from|in) \S+\.(?:png|jpe?g|webp)\b|\bfrom \S+\.(?:png|jpe?g|webp)\b"
            r"|\bin \S+\.(?:png|jpe?g|webp) (?:and|for|as)\b",
            1.5,
            ("use the dog from a.png", "the style in b.jpg for the walls"),
        ),
    ),
    "i2v": (
        Cue(
            r"\banimate\b|\banimating\b|\bbring (?:\w+ ){0,6}to life\b|\bcinemagraph\b|\blive photo\b",
            4.0,
            ("animate this", "bring my drawing to life", "make it a live photo"),
        ),
        Cue(
            r"\bmake (?:it|this|the|my) (?:\w+ ){0,2}(?:move|moving|come alive|alive)\b",
            4.0,
            ("make it move", "make the water moving"),
        ),
        Cue(
            r"\b(?:first|last|start|starting|end|ending|final|opening|closing|initial|begin|beginning) "
            r"(?:and (?:the )?(?:last|end|final|closing) )?(?:frames?|image|keyframe)\b",
            3.5,
            ("use these as the first and last frames", "the starting image is a.png"),
        ),
        Cue(
            r"\b(?:as|is) the (?:first|last|start|end|opening|closing|final)\b",
            3.0,
            ("use my diagram as the first", "this one is the end"),
        ),
        Cue(
            r"\b(?:be|is|as) the (?:end|ending|last|final|start|beginning|first|opening) (?:of|in) the "
            r"(?:video|clip|animation)\b|\bi2v\b|\bimg2vid\b|\bflf2v\b|\bimage[- ]to[- ]video\b"
            r"|\b(?:first|start|last|end)\s*=\s*\S+\.(?:png|jpe?g|webp)\b",
            4.0,
            ("this should be the end of the video", "i2v, 3 seconds", "first=a.png last=b.png"),
        ),
        Cue(
            r"\bfrom (?:my |the )?first (?:[\w-]+ )?to (?:my |the )?(?:second|last|next)\b|\bmorph\w* (?:from|into)\b",
            3.5,
            ("from the first photo to the second", "morphing into a butterfly"),
        ),
        Cue(
            r"\b(?:is|as) (?:where|how) (?:it|the video|the clip|the animation) (?:starts|begins|ends|finishes|stops)\b"
            r"|\bturn (?:this|it|the \w+|my \w+) into (?:a |an )?(?:[\w-]+ ){0,3}(?:video|clip|animation|gif)\b",
            3.5,
            ("p2.jpg is where it ends", "turn this into a 4 second video"),
        ),
        Cue(
            r"\bstart(?:s|ing)? (?:the video |the clip |it )?(?:from|with|on) (?:exactly )?(?:this|my|the)\b"
            r"|\bend(?:s|ing)? (?:the video |it )?(?:on|with|at) (?:this|my|the)\b|\bend on\b|\bfinish(?:es)? on\b",
            3.5,
            ("start the video from this picture", "end on the sunset", "it finishes on a close-up"),
        ),
        Cue(
            r"\bkeyframes?\b|\binterpolat\w*\b|\bin between\b|\bmorph\w* between\b|\b(?:go|goes|move|moves|blend|"
            r"blends|transition|transitions) (?:\w+ )?between (?:these|the|my) two\b"
            r"|\btransition between\b|\bgoes from\b",
            3.5,
            ("interpolate between them", "a smooth transition between these two", "it goes from day to night"),
        ),
    ),
    # Saying outright that the attached picture is NOT a starting frame.
    "not_i2v": (
        Cue(
            r"\bno (?:image|picture|photo) to start from\b|\b(?:doesn't|does not|don't|dont) (?:need|have) to start"
            r"\b|\bnot (?:start|begin) (?:from|with)\b"
            r"|\b(?:don't|do not|dont|no need to) (?:start|begin) (?:from|with|on)\b",
            5.0,
            ("it doesn't have to start from this picture", "do not begin with my photo", "should not start from it"),
        ),
    ),
    "control": (
        Cue(
            r"\b(?:follow|follows|following|copy|copies|copying|match|matching|mimic|mimics|use|using|"
            r"extract|take|takes) (?:the |this |my |its |these )?(?:exact |same )?(?:pose|poses|depth|edges?|canny|"
            r"motion|movement|moves|dance moves|layout|structure|composition|outline|optical flow|flow|scribble|"
            r"sketch|skeleton|skeletons|stick-figure pose|grayscale|greyscale)\b",
            4.0,
            ("follow the pose in this clip", "use the depth of this footage", "copying the moves"),
        ),
        # "keep the composition" is also said of a restyle (an edit); only a named signal counts here.
        Cue(
            r"\bkeep (?:the |this |its )?(?:exact |same )?(?:pose|poses|depth|edges|canny|layout|motion|skeleton|"
            r"optical flow|moves)\b",
            4.0,
            ("keep the exact pose", "a knight, keep the motion"),
            ("keep the composition",),
        ),
        Cue(
            r"\b(?:follow|follows|following) (?:this|it|my|the|these)\b|\bfollowing it\b",
            2.5,
            ("a robot dance following it", "make a fox follow this"),
        ),
        Cue(
            r"\b(?:pose|depth|canny|edge|edges|scribble|sketch|layout|flow|gray|grey|grayscale) control\b"
            r"|\bcontrol (?:video|image|map|signal)\b|\bas (?:the )?(?:control|structure guide|guide)\b"
            r"|\bstructure guide\b|\bas control\b"
            r"|\bas (?:the |a )?(?:structure|guide|blueprint|skeleton) (?:for|of|to)\b",
            4.0,
            ("with depth control", "use it as the guide", "as a blueprint for a castle"),
        ),
        Cue(
            r"\bmake (?:it|this|them) (?:into )?(?:a |an )?(?:real|realistic|photorealistic|finished|proper|detailed|"
            r"full[- ]colou?r|rendered|3d)\b",
            2.0,
            ("make it realistic", "make this into a finished illustration"),
        ),
        Cue(
            r"\b(?:depth|pose|poses|edges|outline|motion|moves|layout) (?:of|from|in) (?:this|the|my|that|it)\b"
            r"|\b(?:same|this|exactly this|these) (?:pose|poses|outline|layout|moves|motion)\b",
            3.5,
            ("the moves in this clip", "a panda doing these moves", "exactly this pose"),
        ),
        Cue(
            r"\b(?:turn|make|convert|transform) (?:this|my|the) (?:\w+ )?(?:sketch|scribble|doodle|drawing|line art)"
            r" into\b|\b(?:sketch|scribble|doodle|drawing) (?:into|to) a\b",
            3.5,
            ("make my drawing into a realistic photo", "turn this pencil sketch into a render"),
        ),
        Cue(
            r"\b(?:real|realistic|finished|photorealistic|real-looking) (?:photo|picture|image|illustration|render)\b",
            1.0,
            ("a realistic photo of it", "a finished illustration"),
        ),
        Cue(
            r"\b(?:turn|make|convert|transform|render) (?:it|this|them) (?:into|as) (?:a |an )?(?:[\w-]+ )?"
            r"(?:real|realistic|real-looking|photorealistic|proper|finished|glossy|photo|picture|render)\b"
            r"|\b(?:sketch|scribble|doodle|drawing|lineart|line art)\s*(?:->|=>|→)|\bdrew (?:this|it|these)\b",
            3.0,
            ("turn it into a glossy render", "sketch -> product photo", "i drew this, color it"),
        ),
        Cue(r"\bnew video\b|\bbrand[- ]new video\b", 0.8, ("a new video of a robot", "a brand-new video")),
    ),
    # Naming a kind of control file: says what a file is, not what to do with it ("was this edge map made
    # with canny?" asks about one).
    "control_words": (
        Cue(
            r"\b(?:depth|pose|canny|edge|normal|segmentation) (?:map|video|pass|sequence|image|maps)\b"
            r"|\bskeleton (?:video|image|sequence)?\b|\bopenpose\b|\bstick[- ]figure\b|\bbounding[- ]box\b"
            r"|\boptical flow\b|\bcanny\b|\bdepth map\b",
            3.0,
            ("here's a depth map", "my openpose skeleton video", "bounding-box layout"),
        ),
    ),
    "still": (
        Cue(
            r"\bstill (?:image|picture|photo|frame|shot)\b|\bimage,? not (?:a |an )?(?:animation|video|clip)\b"
            r"|\bnot (?:a |an )?(?:animation|video|clip|moving)\b|\bsingle (?:image|frame)\b|\bfrozen\b",
            4.0,
            ("a still frame of a hummingbird", "an image, not a video", "a single frame"),
        ),
    ),
    # Control signals named in words (``settings.control_type``).
    "signal_flow": (
        Cue(
            r"\boptical[\s-]*flow\b|\bflow (?:of|from|map|video)\b",
            examples=("use the optical flow of this clip", "the flow from my drone video"),
        ),
        Cue(
            # A motion that a pose word anywhere after it names is a person's ("the motion of my clip, use the
            # pose"): the pose list reads it.
            r"(?:\b(?:motion|movement) (?:of|from|in) (?:this|the|my|that|it)\b|\bcop(?:y|ies|ying) the motion\b)"
            r"(?![^\n]*\b(?:poses?|skeletons?|openpose|keypoints?)\b)",
            examples=("keep the motion of the clip, a fox instead", "copy the motion but make it a river of lava"),
            not_examples=("copy the motion of my clip with a pose skeleton",),
        ),
        Cue(
            r"\bcamera (?:motion|movement|moves?|path|trajectory)\b"
            r"|\bmotion[\s-]*(?:flow|trajector(?:y|ies)|vectors?)\b|\(flow\)"
            r"|\bmotion (?:clip|vid|video|footage|reference)\b",
            examples=(
                "keep the camera motion from the drone clip",
                "use the motion flow of my video",
                "copies its camera movement (flow): a meadow",
                "from my motion vid, an anime girl",
            ),
        ),
    ),
    "signal_gray": (
        Cue(
            r"\bgr[ae]y[\s-]*scale\b|\bgr[ae]y (?:version|control|video)\b|\bblack[- ]and[- ]white version\b",
            examples=("follow the grayscale of this clip", "use a grey version of the video as control"),
        ),
    ),
    "signal_layout": (
        Cue(
            r"\blayout\b|\bbounding[\s-]*box\w*\b|\bbbox\w*\b",
            examples=("keep this layout: a market stall", "boxes from the bounding-box video"),
        ),
    ),
    "signal_pose": (
        Cue(
            r"\bpose[sd]?\b|\bskeletons?\b|\bopenpose\b|\bstick[- ]figures?\b|\bkeypoints?\b",
            examples=("same pose, a knight in armour", "follow the skeleton in the clip"),
        ),
        Cue(
            r"\b(?:dance )?moves\b|\bdance moves\b|\bchoreograph\w*\b",
            examples=("an astronaut doing these dance moves", "same choreography, a robot"),
        ),
        Cue(
            # How a body moves: "the walking motion", "body movements", "the same kick", "follows the dance".
            r"\b(?:dance|dancing|walking|walk|running|jumping|body|dancer's|person's|actor's)"
            r" (?:motion|movements?|steps)\b"
            r"|\bsame (?:kick|jump|steps|dance|gestures?)\b|\bfollows? the dance\b"
            r"|\b(?:my|this|the) dance (?:clip|video|vid|footage)\b",
            examples=(
                "take the walking motion from the clip",
                "the steps from this dance video, a cartoon elephant doing the same steps",
                "a kung fu master doing the same kick",
                "a new video that follows the dance in this clip",
                "the motion from my dance clip, a knight",
            ),
            not_examples=("same motion as the attached clip, a teddy bear", "the camera movement of the clip"),
        ),
    ),
    "signal_depth": (
        Cue(r"\bdepth\b|\bdepthmap\b|\bz-?depth\b", examples=("use the depth of this room", "a z-depth pass")),
    ),
    "signal_canny": (
        Cue(
            r"\bcanny\b|\bedges?\b|\bedge[\s-]*map\b|\boutlines?\b|\bcontours?\b",
            examples=("keep the edges, make it winter", "from the canny map, a glass castle"),
        ),
    ),
    "signal_scribble": (
        Cue(
            r"\bscribbles?\b|\bscribbled\b|\bsketch\w*\b|\bdoodl(?:es?|ed|ing)\b|\bdrawing\b|\bdrew\b"
            r"|\bline[\s-]*art\b|\blineart\b",
            examples=(
                "turn my scribble into a castle",
                "this is what I drew: make it a real house",
                "i doodled a beach house, make it real",
            ),
        ),
    ),
    # Output medium: explicit words for what is to be made.
    "out_video": (
        Cue(
            r"\b(?:video|videos|clip|clips|vid|vids|animation|animated|movie|film|footage|timelapse|time-lapse|gif|"
            r"reel|tiktok|short film|music video|cinemagraph|trailer|loop|slow[- ]?motion|slo-?mo|b-roll|ad video|"
            r"flythrough|fly-through|walkthrough|flyover|fly-over|flyby|fly-by|drone shot)\b",
            1.0,
            ("make a clip of a dragon", "a slow-motion shot of rain", "a drone shot flyover of the coast"),
        ),
    ),
    "out_image": (
        Cue(
            r"\b(?:image|images|picture|pictures|pic|pics|photo|photos|photograph|illustration|painting|drawing|"
            r"poster|logo|wallpaper|icon|headshot|portrait|artwork|still|render|sticker|book cover|cover art|"
            r"album cover|thumbnail|banner|meme|img|imgs|product shot)\b",
            1.0,
            ("an illustration of a dragon", "a youtube thumbnail", "album cover for my band"),
        ),
    ),
    # Verbs of movement: a prompt with one and no medium word most likely describes a clip.
    "motion": (
        Cue(
            r"\b(?:walk|walks|walking|run|runs|running|jump|jumps|jumping|leap|leaps|leaping|fly|flies|flying|dance|"
            r"dances|dancing|swim|swims|swimming|drive|drives|driving|ride|rides|fall|falls|falling|flow|flows|"
            r"flowing|spin|spins|spinning|rotate|rotates|rotating|zoom|zooms|zooming|pan|pans|panning|move|moves|"
            r"moving|chase|chases|chasing|gallop|gallops|galloping|cruise|cruises|cruising|zip|zips|zipping|drift|"
            r"drifts|drifting|splash|splashes|splashing|explode|explodes|exploding|launch|launches|launching|bloom|"
            r"blooms|blooming|grow|grows|growing|wave|waves|waving|play|plays|playing|surf|surfs|surfing|roll|"
            r"rolls|rolling|sway|sways|swaying|crash|crashes|crashing|pour|pours|pouring|rushes|emerges|takes off|"
            r"lands|flapping|marching|sprinting|skating|skateboarding|climbing|turns around|camera)\b",
            1.0,
            ("a cat walks on the grass", "a dragon flies over a castle as the camera pans left"),
        ),
    ),
    # Word lists the rules read inside their own patterns (``lexicon.RULE_WORDS``).
    # Movement told over time: a prompt that narrates one describes a clip.
    "sequence": (
        Cue(
            r"\b(?:then|while (?:the|a|an|he|she|it|they|his|her)|gradually|suddenly|begins? to|"
            r"starts? to|as (?:the|it|he|she|they) \w+s|eventually|little by little|over time|"
            r"step by step)\b",
            1.0,
            ("a seed sprouts, then a flower opens", "the sky gradually turns red", "the top wobbles as it spins"),
            ("a red barn in a field",),
        ),
    ),
    # Refusing a picture: what is wanted moves.
    "not_image": (
        Cue(
            r"\bnot (?:a |an )?(?:still |single )?(?:image|picture|photo|pic|still)\b|\bno (?:still|stills)\b",
            1.0,
            ("a dancing robot, not a still image", "no stills please, a moving scene"),
            ("a photo of a fox",),
        ),
    ),
    # Question words that make "...this?" a question about a file.
    "question_word": (
        Cue(
            r"\b(?:what|who|which|where|how old|how much|is|are)\b",
            1.0,
            ("what plant is this?", "how old is this building?", "who painted these?"),
            ("make a cat",),
        ),
    ),
    # Words beside a file's name that make it the first frame...
    "first_words": (
        Cue(
            r"\b(?:first|start|starts|starting|begin|begins|beginning|opening|initial)\b",
            1.0,
            ("a.jpg is the opening shot", "start with dawn.png", "the first picture"),
            ("end on b.jpg",),
        ),
    ),
    # ...or the last.
    "last_words": (
        Cue(
            r"\b(?:last|end|ending|ends|final|closing|finish|finishes)\b",
            1.0,
            ("p2.jpg is where it ends", "finish on sunset.png", "the final frame"),
            ("start with a.jpg",),
        ),
    ),
    # Words beside a file's name that make it a reference, not the file to edit.
    "ref_words": (
        Cue(
            r"\b(?:ref|reference|style|face|faces|character|the one in|from|like|identity|as the)\b",
            1.0,
            ("use b.png as the style", "the face from me.jpg", "make it look like ref.png"),
            ("brighten photo.jpg",),
        ),
    ),
    # A verb after "the video": the output described ("the video unfolds with..."), not a file pointed at.
    "output_subject": (
        Cue(
            r"\s+(?:unfolds|begins|captures|shows|opens|starts|features|depicts|ends|should|"
            r"must|needs|will)\b",
            1.0,
            ("the video unfolds with a sunrise", "the clip should be slow", "the image shows a fox"),
            ("the video of my dog",),
        ),
    ),
}

LEXICON = Lexicon(language="en", script="latin", cues=CUES, image_nouns=IMAGE_NOUNS, video_nouns=VIDEO_NOUNS)
