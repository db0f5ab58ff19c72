"""Run musicnn's own extractor (TF1 graph code) and save its outputs: the parity reference.

Run in a separate process with ``TF_USE_LEGACY_KERAS=1`` and ``tf-keras``
installed, since musicnn's code needs ``tf.compat.v1.layers`` and switches
TensorFlow out of eager mode on import::

    TF_USE_LEGACY_KERAS=1 python tests/reference/musicnn_reference.py MSD_musicnn out_dir a.wav b.wav ...

writes ``out_dir/<stem>.npz`` (``taggram``, ``labels``, ``embedding``) for each file.

The one change to the original: ``batch_data`` rounds the mel power to float16
as the original does, but computes the log in float32.  Under numpy 2 the
original's float16 arithmetic overflows to inf in about 1 % of bins.
"""

from __future__ import annotations

import sys

import numpy as np


def fixed_batch_data(audio_file, n_frames, overlap):
    """``musicnn.extractor.batch_data`` with the float16 overflow fixed (see module docstring)."""
    import librosa
    from musicnn import configuration as config

    audio, sr = librosa.load(audio_file, sr=config.SR)
    audio_rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP,
                                               n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
    audio_rep = audio_rep.astype(np.float16).astype(np.float32)
    audio_rep = np.log10(10000 * audio_rep + 1)
    last_frame = audio_rep.shape[0] - n_frames + 1
    batch = np.stack([audio_rep[t:t + n_frames, :] for t in range(0, last_frame, overlap)])
    return batch, audio_rep


def main(model: str, out_dir: str, *audio_files: str) -> None:
    from pathlib import Path

    from musicnn import extractor

    extractor.batch_data = fixed_batch_data
    for audio_file in audio_files:
        taggram, labels, features = extractor.extractor(audio_file, model=model, input_length=3,
                                                        input_overlap=False, extract_features=True)
        embedding = features["pool5"] if "vgg" in model else features["penultimate"]
        np.savez(Path(out_dir) / f"{Path(audio_file).stem}.npz", taggram=taggram, labels=np.array(labels),
                 embedding=np.asarray(embedding).reshape(len(taggram), -1))


if __name__ == "__main__":
    main(*sys.argv[1:])
