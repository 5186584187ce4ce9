"""The exception every soundcheck failure raises.

`SoundcheckError` is a `ValueError`; when librosa is installed it is also librosa's own
`librosa.util.exceptions.ParameterError`, so code written against librosa (``except
librosa.ParameterError``, ``pytest.raises(librosa.ParameterError)``) catches soundcheck's errors
unchanged when soundcheck's functions stand in for librosa's.
"""

from . import _native


def _bases():
    # librosa is optional: a missing or broken one (an old release on a new numpy raises
    # AttributeError at import) must not stop soundcheck from importing.
    try:
        from librosa.util.exceptions import ParameterError
    except Exception:
        return (_native.SoundcheckError,)
    return (_native.SoundcheckError, ParameterError)


class SoundcheckError(*_bases()):
    """A parameter, array or file soundcheck cannot use; the message says which and what to do."""


SoundcheckError.__module__ = "soundcheck"
_native.raise_as(SoundcheckError)
