"""soundcheck.batch on a Dask LocalCluster of two worker processes gives what one process gives."""

import numpy as np
import pytest

import soundcheck as sc

distributed = pytest.importorskip("distributed")


def _wav(path, y, sr=22050):
    import wave

    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if pcm.ndim == 1 else pcm.shape[0])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.T.tobytes() if pcm.ndim == 2 else pcm.tobytes())


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_features_scores_and_checks_on_two_worker_processes_equal_one_process(tmp_path, client):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(5):
        p = tmp_path / f"clip{i}.wav"
        t = np.arange(11025) / 22050
        _wav(p, 0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t) + 0.01 * rng.standard_normal(t.size))
        paths.append(str(p))
    here = sc.batch.features(paths, "mfcc", n_mfcc=13)
    there = sc.batch.features(paths, "mfcc", client=client, n_mfcc=13)
    assert len(there) == 5 and all(a.shape == (13, 22) for a in there)
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)

    tracks = []
    for k in range(2):
        refs, ests = [], []
        for stem, f in (("vocals", 330.0), ("accompaniment", 110.0)):
            t = np.arange(22050 * 2) / 22050
            y = 0.3 * np.sin(2 * np.pi * (f + 5 * k) * t) + 0.05 * rng.standard_normal(t.size)
            r, e = tmp_path / f"t{k}_{stem}_ref.wav", tmp_path / f"t{k}_{stem}_est.wav"
            _wav(r, y)
            _wav(e, y + 0.05 * rng.standard_normal(t.size))
            refs.append(str(r))
            ests.append(str(e))
        tracks.append((refs, ests))
    here = sc.batch.evaluate_files(tracks)
    there = sc.batch.evaluate_files(tracks, client=client)
    for a, b in zip(here, there):
        for m, n in zip(a, b):
            np.testing.assert_array_equal(m, n)
    assert np.all(np.isfinite(there[0][0]))

    models = [{"input_shape": [10], "layers": [{"type": "Dense", "units": u}]} for u in (1, 4)]
    reports = sc.batch.map(sc.check, models, client=client, x=(8, 10))
    assert [r.ok for r in reports] == [True, True]
    assert [str(r) for r in reports] == [str(sc.check(m, x=(8, 10))) for m in models]


def test_a_failure_on_a_worker_names_its_item(tmp_path, client):
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"hello")
    with pytest.raises(sc.SoundcheckError) as e:
        sc.batch.features([str(bad)], "mfcc", client=client)
    assert "not_audio.wav" in str(e.value)
    with pytest.raises(sc.SoundcheckError, match="kind='nope'"):
        sc.batch.features([str(bad)], "nope")
