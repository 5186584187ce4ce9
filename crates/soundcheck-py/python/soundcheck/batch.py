"""soundcheck over many files, on a Dask cluster or in this process.

Every soundcheck function is a module-level function (pickled by reference), holds no state
between calls and releases the GIL while Rust works, so a Dask worker process runs it exactly as
the client would. These helpers make one task per item and return the results in the items'
order; without a client they run here, so the same code scales from a laptop to a cluster::

    from dask.distributed import Client
    import soundcheck as sc

    client = Client("scheduler:8786")                       # or Client(LocalCluster(...))
    mfccs = sc.batch.features(paths, "mfcc", client=client, n_mfcc=13)
    scores = sc.batch.evaluate_files(tracks, client=client)  # [(reference files, estimate files)]
    reports = sc.batch.map(sc.check, models, client=client, x=(None, 128, 44))
"""

import functools

from ._errors import SoundcheckError


def _named(fn, item, kwargs):
    """`fn(item, **kwargs)`, a failure raised as SoundcheckError naming the item."""
    try:
        return fn(item, **kwargs)
    except Exception as e:  # noqa: BLE001 - re-raised with the item named
        raise SoundcheckError(f"{item}: {e}") from e


def map(fn, items, *, client=None, **kwargs):  # noqa: A001 - the batch's verb
    """``[fn(item, **kwargs) for item in items]``, one task per item on `client`'s workers (a
    ``dask.distributed.Client``) when given, else in this process. `fn` must be picklable (a
    module-level function, such as soundcheck's own). A failure raises SoundcheckError naming
    its item."""
    items = list(items)
    task = functools.partial(_named, fn, kwargs=kwargs)
    if client is None:
        return [task(item) for item in items]
    return client.gather(client.map(task, items, pure=False))


def _features_of(path, kind, sr, mono, kwargs):
    from . import feature, load

    y, rate = load(path, sr=sr, mono=mono)
    return getattr(feature, kind)(y=y, sr=rate, **kwargs)


def features(paths, kind, *, client=None, sr=22050, mono=True, **kwargs):
    """``soundcheck.feature.<kind>`` of each file, loaded as ``soundcheck.load(path, sr=sr,
    mono=mono)``; `kwargs` go to the feature (``n_mfcc=13``)."""
    from . import feature

    if not callable(getattr(feature, kind, None)) or kind.startswith("_"):
        raise SoundcheckError(f"kind={kind!r} is not a feature of soundcheck.feature")
    task = functools.partial(_features_of, kind=kind, sr=sr, mono=mono, kwargs=kwargs)
    return map(task, paths, client=client)


def _scores_of(track, kwargs):
    import numpy as np

    from . import evaluate, load

    references, estimates = track
    if len(references) != len(estimates):
        raise SoundcheckError(
            f"{len(references)} reference files and {len(estimates)} estimate files: give one estimate per reference"
        )

    def stack(files):
        # museval's layout: (sources, samples, channels), each file at its own rate and channels.
        signals = [load(f, sr=None, mono=False) for f in files]
        return np.stack([y.T if y.ndim == 2 else y[:, None] for y, _ in signals]), signals[0][1]

    (refs, rate), (ests, _) = stack(references), stack(estimates)
    kwargs = {"win": rate, "hop": rate, **kwargs}
    return evaluate(refs, ests, **kwargs)


def evaluate_files(tracks, *, client=None, **kwargs):
    """``soundcheck.evaluate`` (museval's) of each track, given as ``(reference files, estimate
    files)`` in the same stem order; windows of one second at the files' rate unless `win` and
    `hop` are given."""
    task = functools.partial(_scores_of, kwargs=kwargs)
    return map(task, tracks, client=client)
