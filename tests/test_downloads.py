"""Download faults end to end, against a local HTTP server on 127.0.0.1 (issue 10).

The server runs in a thread for one test and is shut down by its fixture; each route says
how it answers: in full, cut short after the first half (once or always), 404, or not at
all (until the test ends).
"""

import dataclasses
import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from builders import make_folder
from course_utils import data

TIMEOUT = 0.5  # seconds the client waits in the timeout test; the server stalls longer


class LocalServer:
    """An HTTP server on 127.0.0.1: `routes[path] = (body, how)`; `hits[path]` counts asks."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body, how = server.routes.get(self.path, (b"", "404"))
                if how == "404":
                    self.send_error(404, "Not Found")
                    return
                if how == "stall":
                    server.stop.wait(10)  # never answers while the test runs
                    return
                cut = how == "cut always" or (how == "cut once" and server.hits[self.path] == 1)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def serve(self, path: str, body: bytes, how: str = "ok") -> str:
        self.routes[path] = (body, how)
        return self.url(path)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a learner's proxy must not get these
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = LocalServer()
    srv.thread.start()
    yield srv
    srv.stop.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def sha256(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def cats_and_dogs_zip(tmp_path) -> bytes:
    """An archive in the layout of cats_and_dogs_filtered.zip, with a few small images."""
    top = tmp_path / "build" / "cats_and_dogs_filtered"
    make_folder(top / "train", classes=("cats", "dogs"), per_class=10, ext="jpg")
    make_folder(top / "validation", classes=("cats", "dogs"), per_class=3, ext="jpg")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(top.rglob("*.jpg")):
            zf.write(p, p.relative_to(top.parent))
    return buf.getvalue()


def register(monkeypatch, url: str, body: bytes | None, **changes) -> data.DatasetSpec:
    """A temporary registry entry like cats_vs_dogs', pointing at the local server."""
    fields = dict(name="cats_local", url=url, filename="cats_local.zip",
                  size_bytes=len(body) if body is not None else None,
                  checksum=sha256(body) if body is not None else None)
    entry = dataclasses.replace(data.REGISTRY["cats_vs_dogs"], **{**fields, **changes})
    monkeypatch.setitem(data.REGISTRY, "cats_local", entry)
    return entry


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- whole paths


def test_a_dataset_archive_is_fetched_over_http_checked_and_loaded(data_home, server, tmp_path,
                                                                    monkeypatch, capsys):
    body = cats_and_dogs_zip(tmp_path)
    register(monkeypatch, server.serve("/cats.zip", body), body)
    root = data.fetch("cats_local", progress=True)
    assert "cats_local.zip" in capsys.readouterr().err  # the progress bar was drawn
    assert data.is_present("cats_local") and root == data.dataset_root("cats_local")
    ds = data.load("cats_local")
    assert ds.class_names == ["cats", "dogs"] and ds.test.counts(2) == [3, 3]
    assert ds.sources["test"] == "folder validation/"
    assert ds.sources["val"] == "carved from train/ (20% per class)"
    assert data.load("cats_local").fingerprint() == ds.fingerprint()
    assert server.hits["/cats.zip"] == 1  # the second load found it present


def test_a_weights_file_is_downloaded_over_http_with_its_md5(server, tmp_path):
    weights = bytes(range(256)) * 4000
    url = server.serve("/vgg16_notop.h5", weights)
    md5 = "md5:" + hashlib.md5(weights).hexdigest()
    dest = data.download(url, tmp_path / "weights" / "vgg16_notop.h5", checksum=md5)
    assert dest.read_bytes() == weights and files_under(tmp_path / "weights") == ["vgg16_notop.h5"]


# --------------------------------------------------------------------------- faults


def test_a_transfer_cut_short_leaves_nothing_and_a_rerun_succeeds(data_home, server, tmp_path,
                                                                  monkeypatch):
    # No checksum and no size, as for a dataset whose checksum is recorded at the first
    # download: only the announced Content-Length can tell that the file is cut short.
    body = cats_and_dogs_zip(tmp_path)
    register(monkeypatch, server.serve("/cats.zip", body, how="cut once"), None)
    with pytest.raises(data.DownloadError, match=rf"closed after {len(body) // 2:,} of "
                                                 rf"{len(body):,} bytes\. Nothing was kept"):
        data.fetch("cats_local", progress=False)
    assert files_under(data_home) == [] and not data.is_present("cats_local")
    data.fetch("cats_local", progress=False)
    assert data.load("cats_local").report.used == 26
    assert files_under(data_home / "cache" / "downloads") == ["cats_local.zip"]


def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(data_home, server, tmp_path,
                                                            monkeypatch):
    body = cats_and_dogs_zip(tmp_path)
    register(monkeypatch, server.serve("/cats.zip", body), body, checksum="sha256:" + "0" * 64)
    with pytest.raises(data.ChecksumError, match=r"expected 0{64}\. The file was deleted"):
        data.fetch("cats_local", progress=False)
    assert files_under(data_home) == [] and not data.is_present("cats_local")


def test_a_404_names_the_url_and_the_offline_way_out(data_home, server, tmp_path):
    url = server.url("/moved.zip")
    dest = tmp_path / "moved.zip"
    with pytest.raises(data.DownloadError) as info:
        data.download(url, dest)
    msg = str(info.value)
    assert url in msg and "404" in msg
    assert "run `make fetch` on a machine that has one" in msg and f"put it at {dest}" in msg
    assert not dest.exists() and not (tmp_path / "moved.zip.part").exists()


def test_a_server_that_never_answers_times_out_with_the_offline_way_out(server, tmp_path):
    url = server.serve("/slow.zip", b"x" * 100, how="stall")
    with pytest.raises(data.DownloadError) as info:
        data.download(url, tmp_path / "slow.zip", timeout=TIMEOUT)
    msg = str(info.value)
    assert url in msg and f"no answer within {TIMEOUT:g} s" in msg and "make fetch" in msg
    assert list(tmp_path.iterdir()) == []


def evil_archive(kind: str) -> bytes:
    """An archive with a harmless member first, then one that climbs out of its folder."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("cats_and_dogs_filtered/ok.txt", "fine")
            zf.writestr("cats_and_dogs_filtered/../../escaped.txt", "out")
    else:
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for name, text in (("cats_and_dogs_filtered/ok.txt", b"fine"),
                               ("cats_and_dogs_filtered/../../escaped.txt", b"out")):
                info = tarfile.TarInfo(name)
                info.size = len(text)
                tf.addfile(info, io.BytesIO(text))
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_an_archive_with_an_escaping_path_is_refused_whole(data_home, server, monkeypatch, kind):
    body = evil_archive(kind)
    register(monkeypatch, server.serve(f"/evil.{kind}", body), body)
    with pytest.raises(data.DatasetError, match=r"unsafe path '.*escaped\.txt'; not extracted"):
        data.fetch("cats_local", progress=False)
    assert not list(data_home.parent.rglob("escaped.txt")) and not list(data_home.rglob("ok.txt"))
    assert files_under(data_home) == [] and not data.is_present("cats_local")


def test_a_tar_link_pointing_out_of_its_folder_is_refused_before_anything_is_written(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tf:
        tf.addfile(tarfile.TarInfo("top/ok.txt"), io.BytesIO(b""))
        link = tarfile.TarInfo("top/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "../../outside/passwd"
        tf.addfile(link)
    with pytest.raises(data.DatasetError, match=r"unsafe path 'top/passwd'; not extracted"):
        data.extract_archive(archive, tmp_path / "target")
    assert not (tmp_path / "target" / "top").exists()
