"""`--deep`: an image export read as a stream (runbench.collect.layers) from synthetic `docker save` tars,
in the classic and the OCI layout: whiteouts across layers, opaque directories, replaced files, compressed
and aliased layers, hostile headers, and memory that does not grow with the image."""

from __future__ import annotations

import gzip
import json
import tarfile
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from runbench.collect.layers import MAX_PEEK, ChunkReader, scan_export, sensitive_kind

# --- building exports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class E:
    """One entry of a synthetic layer."""

    name: str
    mode: int = 0o644
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    zeros: int = 0  # a large file of zeros, produced lazily
    link: str = ""


def _info(e: E) -> tarfile.TarInfo:
    info = tarfile.TarInfo(e.name)
    info.type = e.kind
    info.mode = e.mode
    info.size = (len(e.data) or e.zeros) if e.kind == tarfile.REGTYPE else 0
    info.linkname = e.link
    info.mtime = 1_700_000_000
    return info


def _pad(n: int) -> int:
    return (512 - n % 512) % 512


def tar_chunks(entries: list[E]) -> Iterator[bytes]:
    """A tar stream of `entries`, built lazily (large zero files never exist in memory)."""
    for e in entries:
        info = _info(e)
        yield info.tobuf(format=tarfile.GNU_FORMAT)
        if e.data:
            yield e.data + b"\0" * _pad(len(e.data))
        elif e.zeros:
            left = e.zeros
            block = b"\0" * (1024 * 1024)
            while left:
                piece = min(left, len(block))
                yield block[:piece]
                left -= piece
            yield b"\0" * _pad(e.zeros)
    yield b"\0" * 1024


def tar_size(entries: list[E]) -> int:
    return sum(len(c) for c in tar_chunks([e for e in entries if not e.zeros])) + sum(
        len(_info(e).tobuf(format=tarfile.GNU_FORMAT)) + e.zeros + _pad(e.zeros) for e in entries if e.zeros
    )


def tar_bytes(entries: list[E]) -> bytes:
    return b"".join(tar_chunks(entries))


def export(
    layers: list[list[E]],
    *,
    oci: bool = False,
    gz: tuple[int, ...] = (),
    order: list[int] | None = None,
    alias: dict[int, int] | None = None,
    manifest: bool = True,
) -> Iterator[bytes]:
    """A `docker save` stream of one image with `layers` (lowest first). `order`: the order layers come in
    the stream; `alias`: layer i is a symlink to layer j (the classic layout's duplicate layers)."""
    names = [f"blobs/sha256/{i:064x}" if oci else f"{i:064x}/layer.tar" for i in range(1, len(layers) + 1)]
    outer: list[tuple[E, Iterator[bytes] | None]] = []
    for i in order if order is not None else range(len(layers)):
        if alias and i in alias:
            target = f"../{alias[i] + 1:064x}/layer.tar"
            outer.append((E(names[i], 0o777, kind=tarfile.SYMTYPE, link=target), None))
            continue
        if i in gz:
            data = gzip.compress(tar_bytes(layers[i]))
            outer.append((E(names[i], data=data), None))
        else:
            outer.append((E(names[i], zeros=tar_size(layers[i])), tar_chunks(layers[i])))
    if oci:
        outer.append((E("blobs/sha256/" + "c" * 64, data=b'{"architecture":"amd64"}'), None))
    if manifest:
        doc = [{"Config": ("blobs/sha256/" if oci else "") + "c" * 64 + ("" if oci else ".json"), "Layers": names}]
        outer.append((E("manifest.json", data=json.dumps(doc).encode()), None))
    for e, body in outer:
        yield _info(e).tobuf(format=tarfile.GNU_FORMAT)
        if body is None:
            if e.data:
                yield e.data + b"\0" * _pad(len(e.data))
            continue
        sent = 0
        for chunk in body:
            sent += len(chunk)
            yield chunk
        assert sent == e.zeros, (e.name, sent, e.zeros)
        yield b"\0" * _pad(sent)
    yield b"\0" * 1024


KEY = (
    b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
    b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    b"-----END OPENSSH PRIVATE KEY-----\n"
)
BASE = [
    E("bin/", 0o755, kind=tarfile.DIRTYPE),
    E("bin/busybox", 0o755, b"\x7fELF"),
    E("bin/su", 0o4755, b"\x7fELF"),
    E("usr/bin/apt-get", 0o755, b"\x7fELF"),
    E("tmp/", 0o1777, kind=tarfile.DIRTYPE),
    E("tmp/scratch", 0o666, b"x"),
    E("etc/", 0o755, kind=tarfile.DIRTYPE),
    E("etc/motd", 0o666, b"hi"),
    E("srv/", 0o777, kind=tarfile.DIRTYPE),
]


def paths(findings: tuple[object, ...]) -> list[str]:
    return [f.path for f in findings]  # type: ignore[attr-defined]


# --- tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("oci", [False, True], ids=["classic", "oci"])
def test_one_layer_findings(oci: bool) -> None:
    got = scan_export(export([BASE], oci=oci))
    assert got.complete, got.why
    assert (got.layers, got.files) == (1, len(BASE))
    assert paths(got.setuid) == ["/bin/su"] and got.setuid[0].mode == 0o4755
    assert paths(got.world_writable) == ["/etc/motd", "/srv"]  # /tmp is exempt, sticky or not
    assert got.package_managers == ("/usr/bin/apt-get",)
    assert got.bytes_read > 0


@pytest.mark.parametrize("oci", [False, True], ids=["classic", "oci"])
def test_whiteouts_across_layers(oci: bool) -> None:
    top = [
        E("bin/.wh.su"),  # deletes the setuid su
        E("opt/", 0o755, kind=tarfile.DIRTYPE),
        E("opt/gone", 0o4755, b"x"),
        E("etc/motd", 0o644, b"fixed"),  # replaced: no longer world-writable
        E("usr/.wh.bin"),  # deletes a whole directory
    ]
    third = [E("opt/.wh..wh..opq"), E("opt/new", 0o2755, b"x")]  # hides opt/gone, adds a setgid file
    got = scan_export(export([BASE, top, third], oci=oci))
    assert got.complete, got.why
    assert paths(got.setuid) == ["/opt/new"] and got.setuid[0].layer == 3
    assert paths(got.world_writable) == ["/srv"]
    assert got.package_managers == ()


def test_a_file_deleted_later_is_not_reported_whatever_the_stream_order() -> None:
    layers = [BASE, [E("bin/.wh.su"), E("srv/", 0o755, kind=tarfile.DIRTYPE)]]
    for order in ([0, 1], [1, 0]):
        got = scan_export(export(layers, order=order))
        assert got.complete, got.why
        assert (paths(got.setuid), paths(got.world_writable)) == ([], ["/etc/motd"])


def test_a_whiteout_in_a_lower_layer_does_not_delete_what_a_higher_one_adds() -> None:
    got = scan_export(export([[E("bin/.wh.su")], [E("bin/su", 0o4755, b"x")]]))
    assert paths(got.setuid) == ["/bin/su"]


def test_a_parent_replaced_by_a_file_hides_what_was_under_it() -> None:
    got = scan_export(export([BASE, [E("bin", 0o644, b"not a dir")]]))
    assert paths(got.setuid) == []


def test_compressed_and_aliased_layers() -> None:
    got = scan_export(export([BASE, [E("opt/x", 0o4755, b"x")]], oci=True, gz=(1,)))
    assert got.complete, got.why
    assert paths(got.setuid) == ["/bin/su", "/opt/x"]
    aliased = scan_export(export([BASE, [E("bin/.wh.su")], BASE], alias={2: 0}))
    assert aliased.complete, aliased.why
    # the third layer is the first one again (a symlink in the export): su is back
    assert paths(aliased.setuid) == ["/bin/su"] and aliased.layers == 3


def test_sensitive_files() -> None:
    layer = [
        E("root/.ssh/id_rsa", 0o600, KEY),
        E("root/.ssh/id_rsa.pub", 0o644, b"ssh-rsa AAAA"),
        E("etc/ssl/private/app.pem", 0o600, KEY),
        E("etc/ssl/certs/ca.pem", 0o644, b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        E("app/.env", 0o644, b"X=1"),
        E("app/.env.example", 0o644, b"X="),
        E("root/.npmrc", 0o600, b"//registry.npmjs.org/:_authToken=npm_FAKEfake\n"),
        E("home/app/.npmrc", 0o600, b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
        E("root/.docker/config.json", 0o600, b'{"auths":{"r.example":{"auth":"ZmFrZTpmYWtl"}}}'),
        E("root/.pypirc", 0o600, b"[pypi]\nusername = __token__\npassword = pypi-FAKE\n"),
        E("usr/lib/python3/dist-packages/twisted/test/server.pem", 0o644, KEY),
    ]
    got = scan_export(export([layer]))
    assert [(f.path, f.what) for f in got.sensitive] == [
        ("/app/.env", ".env file"),
        ("/etc/ssl/private/app.pem", "PEM private key"),
        ("/root/.docker/config.json", "registry credentials in .docker/config.json"),
        ("/root/.npmrc", "npm registry credentials in .npmrc"),
        ("/root/.pypirc", "package index password in .pypirc"),
        ("/root/.ssh/id_rsa", "SSH private key"),
    ]
    assert "FAKE" not in repr(got) and "b3BlbnNz" not in repr(got)


def test_sensitive_kind_reads_only_candidates() -> None:
    def never() -> bytes:
        raise AssertionError("read a file that is not a candidate")

    assert sensitive_kind("usr/bin/env", 100, never) == ""
    assert sensitive_kind("root/.ssh/id_ed25519", 100, never) == "SSH private key"
    assert sensitive_kind("srv/big.pem", 10 * 1024 * 1024, never) == ""  # too large to peek: not judged


def test_no_manifest_or_a_broken_stream_is_incomplete() -> None:
    got = scan_export(export([BASE], manifest=False))
    assert not got.complete and "manifest.json" in got.why
    assert paths(got.setuid) == ["/bin/su"]  # what could be read is still shown
    data = b"".join(export([BASE]))
    cut = scan_export(iter([data[: len(data) // 2]]))
    assert not cut.complete
    junk = scan_export(iter([b"{not a tar}" * 100]))
    assert not junk.complete and "not a readable tar" in junk.why


def test_a_hostile_pax_header_is_refused_without_reading_it() -> None:
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = 3 * 1024 * 1024 * 1024  # 3 GB of "header"
    hostile = [pax.tobuf(format=tarfile.GNU_FORMAT)]
    tracemalloc.start()
    try:
        got = scan_export(iter(hostile))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not got.complete and "extended data" in got.why
    assert peak < 20 * 1024 * 1024


def test_memory_stays_flat_on_a_large_export() -> None:
    """300 MB of layers (large files and many small ones) streamed: the peak of Python allocations stays far
    below the image size (the process RSS on a real 1 GB image is measured on a real engine, not here)."""
    big = [E(f"data/blob{i}", 0o644, zeros=100 * 1024 * 1024) for i in range(3)]
    many = [E(f"usr/share/doc/f{i:05d}", 0o644, b"x" * 100) for i in range(2_000)]
    tracemalloc.start()
    try:
        got = scan_export(export([BASE, big, many, [E("data/.wh.blob0")]]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.complete, got.why
    assert got.bytes_read > 300 * 1024 * 1024
    assert got.files == len(BASE) + len(big) + len(many)
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_chunk_reader_reads_and_skips_forward_only() -> None:
    reader = ChunkReader(iter([b"ab", b"", b"cdef", b"ghij"]))
    assert reader.read(3) == b"abc"
    assert reader.seek(5) == 5 and reader.tell() == 5
    buf = bytearray(2)
    assert reader.readinto(buf) == 1 and buf[:1] == b"f"  # what the current chunk holds
    with pytest.raises(OSError, match="backwards"):
        reader.seek(1)
    assert reader.read() == b"ghij" and reader.read(4) == b""
    assert reader.bytes_read == 10
    assert MAX_PEEK >= 4096


# --- the bounded streaming GET (EngineAPI.stream) and the collector's deep scan ------------------------


def _fake_engine(handler: object) -> object:
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.support.fakeengine import FakeEngine

    return FakeEngine(containers=0, behaviour={"/images/sha256:abc/get": handler})  # type: ignore[dict-item]


def _chunked(data: bytes, piece: int = 7000) -> object:
    def handle(engine: object, sock: object, path: str) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n")  # type: ignore[attr-defined]
        for i in range(0, len(data), piece):
            part = data[i : i + piece]
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")  # type: ignore[attr-defined]
        sock.sendall(b"0\r\n\r\n")  # type: ignore[attr-defined]
        return True

    return handle


def _api(engine: object, **kw: object) -> object:
    from runbench.collect.api import EngineAPI, parse_host

    return EngineAPI(parse_host(engine.url), **{"timeout": 2.0, **kw})  # type: ignore[attr-defined, arg-type]


def test_stream_yields_a_chunked_answer_in_pieces() -> None:
    data = b"".join(export([BASE]))
    with _fake_engine(_chunked(data)) as engine:  # type: ignore[attr-defined]
        api = _api(engine)
        pieces = list(api.stream("/images/sha256:abc/get"))  # type: ignore[attr-defined]
        api.close()  # type: ignore[attr-defined]
    assert b"".join(pieces) == data and len(pieces) > 1
    assert max(len(p) for p in pieces) <= 7000


def test_stream_of_an_error_answer_raises_with_the_engine_message() -> None:
    from runbench.collect.api import EngineNotFound
    from tests.support.fakeengine import status

    with _fake_engine(status(404, "No such image: sha256:abc")) as engine:  # type: ignore[attr-defined]
        api = _api(engine)
        with pytest.raises(EngineNotFound, match="No such image"):
            list(api.stream("/images/sha256:abc/get"))  # type: ignore[attr-defined]


def test_stream_is_bounded_in_time_and_size() -> None:
    from runbench.collect.api import EngineBadAnswer, EngineTimeout
    from tests.support.fakeengine import trickle

    with _fake_engine(trickle) as engine:  # type: ignore[attr-defined]
        engine.answers["/images/sha256:abc/get"] = {"x": "y" * 100}  # type: ignore[attr-defined]
        api = _api(engine, timeout=1.0)
        with pytest.raises(EngineTimeout):
            list(api.stream("/images/sha256:abc/get"))  # type: ignore[attr-defined]
        api.close()  # type: ignore[attr-defined]  # the liveness ping's keep-alive connection
    with _fake_engine(_chunked(b"z" * 100_000)) as engine:  # type: ignore[attr-defined]
        api = _api(engine)
        with pytest.raises(EngineBadAnswer, match="cap"):
            list(api.stream("/images/sha256:abc/get", max_bytes=50_000))  # type: ignore[attr-defined]


def test_deep_scan_of_a_streamed_export_and_of_a_failing_one() -> None:
    from runbench.collect.engine import EngineClient
    from runbench.collect.images import export_contents

    data = b"".join(export([BASE, [E("bin/.wh.su")]]))
    with _fake_engine(_chunked(data, 65536)) as engine:  # type: ignore[attr-defined]
        client = EngineClient(_api(engine))  # type: ignore[arg-type]
        got = export_contents(client, "sha256:abc")
        client.close()
    assert got.complete and paths(got.setuid) == [] and len(data) - 1024 <= got.bytes_read <= len(data)
    from tests.support.fakeengine import status

    with _fake_engine(status(500, "export failed")) as engine:  # type: ignore[attr-defined]
        client = EngineClient(_api(engine))  # type: ignore[arg-type]
        broken = export_contents(client, "sha256:abc")
    assert not broken.complete and "HTTP 500" in broken.why
