"""Planning starts fast: a request compiles only the patterns it can use, and the command line imports no media
library for a request without attachments. Plans are unchanged (``test_pattern_keys.py`` proves the keys)."""

from __future__ import annotations

import random
import re
import subprocess
import sys

from unison_agent.planning.reading import _occurrences


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_planning_a_request_without_attachments_imports_no_media_library() -> None:
    code = (
        "import sys; from unison_agent.cli import main; assert main(['plan', 'a red fox in the snow, 16:9']) == 0; "
        "print(sorted(m for m in ('av', 'PIL', 'unison_agent.media') if m in sys.modules))"
    )
    assert _run(code).splitlines()[-1] == "[]"


def test_importing_the_planner_compiles_no_rule_and_a_request_only_those_it_may_match() -> None:
    code = (
        "from unison_agent.planning import meta, plan; from unison_agent.planning.cues import LEXICONS; "
        "print(sum(r.pattern._compiled is not None for r in meta.RULES)); "
        "text = 'a red fox in the snow, 16:9'; plan(text); "
        "done = [r for r in meta.RULES if r.pattern._compiled is not None]; "
        "print(sorted({r.lang for r in done} & {'zh', 'ja'})); "
        "from unison_agent.planning.text import normalise; "
        "print([r.kind for r in done if not r.pattern.possible(normalise(text).text)]); "
        "print(sorted(lex.language for lex in LEXICONS if lex._compiled and lex.script == 'cjk'))"
    )
    assert _run(code).splitlines() == ["0", "[]", "[]", "[]"]


def test_a_file_name_is_found_where_the_escaped_pattern_finds_it() -> None:
    rng = random.Random(12)
    letters = "ab_. 1é-"
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(0, 14)))
        name = "".join(rng.choice(letters) for _ in range(rng.randint(0, 3)))
        assert _occurrences(name, text) == [m.span() for m in re.finditer(re.escape(name), text)], (name, text)
        if name:
            whole = [m.span() for m in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", text)]
            assert _occurrences(name, text, whole_word=True) == whole, (name, text)


def test_the_rules_word_boundary_sees_every_letter_of_the_alphabetic_languages_and_no_cjk_character() -> None:
    # meta._W is written out (it compiles five times faster than [^\W<CJK ranges>]); it must still hold every
    # letter the Latin-script languages write, and leave out CJK, so that "5秒" keeps a boundary.
    from unison_agent.planning import meta

    word = re.compile(meta._W)
    latin = "abcdefghijklmnopqrstuvwxyzàâäáãåçèéêëìíîïñòóôöõøùúûüýÿßœæğşı0123456789_²µº"
    others = "αβγδεωабвгдеёжщыэюяčřžșțőű"  # Greek, Cyrillic, Central European
    for c in latin + latin.upper() + others + others.upper():
        assert word.fullmatch(c), c
    for c in "秒张图片動画ですカメラ。、！？：０１ａ　":
        assert not word.fullmatch(c), c
    from unison_agent.planning import plan

    spec = plan("生成一段小猫玩球的视频，横屏16:9，时长5秒")  # numbers glued to CJK characters
    assert spec.duration_s == 5.0 and abs(spec.width / spec.height / (16 / 9) - 1) <= 0.03
