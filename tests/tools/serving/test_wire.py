"""unison_agent.tools.serving.wire: what crosses the cluster for one run (a spec with its attachments as bytes,
the outputs back as encoded bytes, errors by name) and how each side turns it back into files. No Ray here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from unison_agent.errors import (
    DeviceMemoryError,
    ExecutorError,
    MediaError,
    ProfileError,
    RunCancelled,
    ToolError,
    UnreadableInputError,
)
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import outputs
from unison_agent.tools.outputs import read_metadata, write_mp4, write_png
from unison_agent.tools.results import Artifact, RunResult
from unison_agent.tools.serving import wire
from unison_agent.tools.serving.wire import (
    OutputFile,
    RunPayload,
    RunReply,
    decode_error,
    encode_error,
    pack_request,
    pack_result,
    place_outputs,
    unpack_request,
)


def _editing(*inputs: tuple[str, Role]) -> TaskSpec:
    return TaskSpec(
        task=Task.IMAGE_EDITING,
        prompt="make the sky purple",
        inputs=[Input(path=p, media=Media.IMAGE, role=r) for p, r in inputs],
    )


def _artifact(path: str | Path, media: Media, frames: int = 1) -> Artifact:
    return Artifact(
        path=str(path),
        media=media,
        width=32,
        height=16,
        num_frames=frames,
        fps=16 if media is Media.VIDEO else None,
        seed=7,
    )


def _replica_result(folder: Path) -> RunResult:
    """A result as a replica's run leaves it: a PNG (metadata inside) and an MP4 with its JSON sidecar."""
    rng = np.random.default_rng(0)
    png = write_png(folder / "a-fox-7.png", rng.integers(0, 255, (16, 32, 3), dtype=np.uint8), {"seed": 7})
    mp4 = write_mp4(
        folder / "a-fox-running-7.mp4", rng.integers(0, 255, (5, 16, 32, 3), dtype=np.uint8), 16, {"seed": 7}
    )
    return RunResult(
        spec=TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", seed=7),
        outputs=[_artifact(png, Media.IMAGE), _artifact(mp4, Media.VIDEO, frames=5)],
        notes=["snapped"],
    )


# ---------------------------------------------------------------------------------------------- requests


def test_pack_request_reads_each_distinct_attachment_once_in_order_of_first_use(
    media: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    photo, mask = media("photo.png"), media("mask.png", "mask")
    reads: list[str] = []
    read_bytes = Path.read_bytes

    def counted(self: Path) -> bytes:
        reads.append(str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counted)
    payload = pack_request(_editing((photo, Role.SOURCE), (mask, Role.MASK), (photo, Role.REFERENCE)))
    assert reads == [photo, mask]
    assert payload.files is not None
    assert [name for name, _ in payload.files] == ["photo.png", "mask.png"]
    assert payload.files[0][1] == read_bytes(Path(photo))
    assert payload.files[1][1] == read_bytes(Path(mask))


def test_pack_request_for_a_shared_disk_reads_nothing(tmp_path: Path) -> None:
    spec = _editing((str(tmp_path / "absent.png"), Role.SOURCE))
    assert pack_request(spec, "shared") == RunPayload(spec=spec, files=None)


def test_a_missing_attachment_fails_when_the_request_is_packed_naming_the_file(
    media: Callable[..., str], tmp_path: Path
) -> None:
    gone = tmp_path / "gone.png"
    with pytest.raises(UnreadableInputError) as caught:
        pack_request(_editing((media("photo.png"), Role.SOURCE), (str(gone), Role.MASK)))
    message = str(caught.value)
    assert message.startswith("gone.png: cannot be read to send it to the cluster")
    assert "\n" not in message


def test_unpack_request_writes_the_files_keeping_their_names_and_maps_the_paths_back(
    media: Callable[..., str], tmp_path: Path
) -> None:
    # Two attachments with the same file name (in different folders) must not overwrite each other.
    first, second = media("a/photo.png"), media("b/photo.png", "mask")
    clip = media("clip.mp4", frames=5)
    spec = TaskSpec(
        task=Task.VIDEO_EDITING,
        prompt="x",
        inputs=[
            Input(path=clip, media=Media.VIDEO, role=Role.SOURCE),
            Input(path=first, media=Media.IMAGE, role=Role.REFERENCE),
            Input(path=second, media=Media.IMAGE, role=Role.MASK),
        ],
    )
    scratch = tmp_path / "replica"
    here, names = unpack_request(pack_request(spec), scratch)
    paths = [Path(i.path) for i in here.inputs]
    assert [p.name for p in paths] == ["clip.mp4", "photo.png", "photo.png"]
    assert len(set(paths)) == 3
    assert all(p.is_relative_to(scratch) for p in paths)
    assert [p.read_bytes() for p in paths] == [
        Path(clip).read_bytes(),
        Path(first).read_bytes(),
        Path(second).read_bytes(),
    ]
    assert names == {str(paths[0]): clip, str(paths[1]): first, str(paths[2]): second}
    assert [i.role for i in here.inputs] == [i.role for i in spec.inputs]
    assert here.model_copy(update={"inputs": spec.inputs}) == spec, "only the paths differ"


def test_unpack_request_on_a_shared_disk_keeps_the_callers_paths(tmp_path: Path) -> None:
    spec = _editing(("/data/photo.png", Role.SOURCE))
    assert unpack_request(RunPayload(spec=spec), tmp_path) == (spec, {})
    assert not any(tmp_path.iterdir())


def test_unpack_request_refuses_a_payload_whose_files_do_not_match_its_attachments(tmp_path: Path) -> None:
    payload = RunPayload(
        spec=_editing(("/data/a.png", Role.SOURCE), ("/data/m.png", Role.MASK)), files=[("a.png", b"")]
    )
    with pytest.raises(ToolError, match=r"^the request carried 1 files for 2 attachments$"):
        unpack_request(payload, tmp_path)


# ---------------------------------------------------------------------------------------------- replies


def test_pack_result_sends_each_output_by_file_name_with_a_clips_sidecar(tmp_path: Path) -> None:
    result = _replica_result(tmp_path)
    reply = pack_result(result)
    assert [a.path for a in reply.result.outputs] == ["a-fox-7.png", "a-fox-running-7.mp4"]
    png, mp4 = reply.files
    assert (png.name, png.data, png.sidecar) == ("a-fox-7.png", (tmp_path / "a-fox-7.png").read_bytes(), None)
    assert (mp4.name, mp4.data) == ("a-fox-running-7.mp4", (tmp_path / "a-fox-running-7.mp4").read_bytes())
    assert mp4.sidecar == (tmp_path / "a-fox-running-7.json").read_bytes()
    assert reply.result.notes == result.notes and reply.result.spec == result.spec


def test_place_outputs_writes_the_files_into_the_callers_folder_with_their_metadata(tmp_path: Path) -> None:
    replica, caller = tmp_path / "replica", tmp_path / "caller" / "out"
    replica.mkdir()
    placed = place_outputs(pack_result(_replica_result(replica)), caller)
    assert [Path(a.path) for a in placed.outputs] == [caller / "a-fox-7.png", caller / "a-fox-running-7.mp4"]
    assert sorted(p.name for p in caller.iterdir()) == ["a-fox-7.png", "a-fox-running-7.json", "a-fox-running-7.mp4"]
    assert (caller / "a-fox-7.png").read_bytes() == (replica / "a-fox-7.png").read_bytes()
    assert (caller / "a-fox-running-7.mp4").read_bytes() == (replica / "a-fox-running-7.mp4").read_bytes()
    assert read_metadata(caller / "a-fox-7.png") == {"seed": 7}
    assert read_metadata(caller / "a-fox-running-7.mp4") == {"seed": 7}, "the clip's sidecar came along"
    assert placed.notes == ["snapped"]


def test_place_outputs_never_overwrites_a_file_of_the_same_name(tmp_path: Path) -> None:
    replica, caller = tmp_path / "replica", tmp_path / "caller"
    replica.mkdir()
    caller.mkdir()
    (caller / "a-fox-7.png").write_bytes(b"mine")
    (caller / "a-fox-running-7.json").write_bytes(b"{}")  # a sidecar alone also takes the name of a clip
    placed = place_outputs(pack_result(_replica_result(replica)), caller)
    assert [Path(a.path).name for a in placed.outputs] == ["a-fox-7-2.png", "a-fox-running-7-2.mp4"]
    assert (caller / "a-fox-7.png").read_bytes() == b"mine"
    assert (caller / "a-fox-running-7.json").read_bytes() == b"{}"
    assert (caller / "a-fox-running-7-2.json").is_file()


def test_two_outputs_sent_under_the_same_name_are_both_kept(tmp_path: Path) -> None:
    image = _artifact("out.png", Media.IMAGE)
    reply = RunReply(
        result=RunResult(spec=TaskSpec(task=Task.TEXT_TO_IMAGE, num_outputs=2), outputs=[image, image]),
        files=[OutputFile("out.png", b"first")],
    )
    placed = place_outputs(reply, tmp_path)
    assert [Path(a.path).name for a in placed.outputs] == ["out.png", "out-2.png"]


def test_a_failure_while_placing_the_outputs_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replica, caller = tmp_path / "replica", tmp_path / "caller"
    replica.mkdir()
    reply = pack_result(_replica_result(replica))
    calls: list[Path] = []

    def second_fails(path: Path, data: bytes, sidecar: bytes | None = None) -> Path:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return outputs.write_encoded(path, data, sidecar)

    monkeypatch.setattr(wire, "write_encoded", second_fails)
    with pytest.raises(OSError, match="No space left"):
        place_outputs(reply, caller)
    assert len(calls) == 2
    assert list(caller.iterdir()) == []


def test_a_failure_while_placing_a_clip_also_takes_back_the_image_before_it_and_its_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica, caller = tmp_path / "replica", tmp_path / "caller"
    replica.mkdir()
    result = _replica_result(replica)
    reply = pack_result(result.model_copy(update={"outputs": result.outputs[::-1]}))  # the clip first
    calls: list[Path] = []

    def second_fails(path: Path, data: bytes, sidecar: bytes | None = None) -> Path:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return outputs.write_encoded(path, data, sidecar)

    monkeypatch.setattr(wire, "write_encoded", second_fails)
    with pytest.raises(OSError):
        place_outputs(reply, caller)
    assert [p.name for p in calls] == ["a-fox-running-7.mp4", "a-fox-7.png"]
    assert list(caller.iterdir()) == [], "the clip and its sidecar are gone"


# ---------------------------------------------------------------------------------------------- errors


def _round_trip(error: BaseException) -> BaseException:
    return decode_error(encode_error(error))


def test_a_media_error_comes_back_as_a_media_error_with_its_path() -> None:
    back = _round_trip(MediaError("/home/me/x.png", "not an image\n(truncated)"))
    assert type(back) is MediaError
    assert isinstance(back, MediaError)  # for the type checker
    assert str(back) == "x.png: not an image (truncated)"
    assert (back.path, back.problem) == ("/home/me/x.png", "not an image\n(truncated)")


def test_a_device_memory_error_comes_back_with_its_stage() -> None:
    back = _round_trip(DeviceMemoryError("out of memory while decoding; try lowvram", stage="decode"))
    assert type(back) is DeviceMemoryError
    assert isinstance(back, DeviceMemoryError)
    assert back.stage == "decode"
    assert str(back) == "out of memory while decoding; try lowvram"


@pytest.mark.parametrize("cls", [ToolError, UnreadableInputError, ProfileError, ExecutorError])
def test_our_errors_come_back_as_the_same_class_with_the_same_one_line_message(cls: type[Exception]) -> None:
    back = _round_trip(cls("what went wrong;\n   what to do"))
    assert type(back) is cls
    assert str(back) == "what went wrong; what to do"


def test_a_cancellation_comes_back_as_run_cancelled() -> None:
    back = _round_trip(RunCancelled("cancelled at step 2"))
    assert type(back) is RunCancelled
    assert str(back) == "cancelled at step 2"


@pytest.mark.parametrize(
    ("error", "named"),
    [(KeyError("vace"), "KeyError: 'vace'"), (ZeroDivisionError("division by zero"), "ZeroDivisionError")],
)
def test_an_unknown_exception_comes_back_as_a_tool_error_naming_its_class(error: Exception, named: str) -> None:
    back = _round_trip(error)
    assert type(back) is ToolError
    assert str(back).startswith(f"the run failed on the cluster: {named}")


def test_a_class_of_the_same_name_outside_our_errors_is_not_taken_for_ours() -> None:
    back = decode_error({"type": "one_line", "message": "x"})  # a function in unison_agent.errors, not an error
    assert type(back) is ToolError
    assert str(back) == "the run failed on the cluster: one_line: x"


def test_an_error_about_a_replicas_copy_of_an_attachment_names_the_callers_file(tmp_path: Path) -> None:
    here = str(tmp_path / "unison-replica-1" / "inputs" / "0" / "x.png")
    names = {here: "/home/me/x.png"}
    back = decode_error(encode_error(MediaError(here, f"corrupt; {here} ends early"), names))
    assert isinstance(back, MediaError)
    assert back.path == "/home/me/x.png"
    assert back.problem == "corrupt; /home/me/x.png ends early"
    assert str(back) == "x.png: corrupt; /home/me/x.png ends early"
    elsewhere = decode_error(encode_error(ToolError("/opt/model is missing"), names))
    assert str(elsewhere) == "/opt/model is missing", "other paths are left as they are"
