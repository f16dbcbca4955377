"""Audio streams carried from the input to the output.

Each input audio stream is copied packet by packet, without re-encoding, where the
output container can hold its codec; otherwise (e.g. AAC into WebM) it is decoded
and re-encoded with the container's default audio codec (Opus for WebM).
"""

from __future__ import annotations

import av
import av.error
from av.audio.stream import AudioStream
from av.container import OutputContainer

from ..errors import UserError


class AudioTrack:
    """One input audio stream's way into the output container.

    Args:
        container: the output, before anything is written to it.
        source: the input audio stream.
        shift: ticks of the input's time base to subtract from every timestamp.

    Raises:
        UserError: the stream's codec cannot be read.
    """

    def __init__(self, container: OutputContainer, source: AudioStream, shift: int) -> None:
        self.container = container
        self.shift = shift
        if source.codec_context is None:  # found by fuzzing: a cut MP4 whose audio header is lost
            raise UserError(f"an audio stream of {source.container.name} has a damaged header or a codec this "
                            "FFmpeg build cannot read; re-export the video")
        try:
            self.stream = container.add_stream_from_template(source)
            self.copy = True
        except ValueError:
            self.stream = self._encoder_stream(container, source)
            self.copy = False
        self.stream.metadata.update(source.metadata)

    @staticmethod
    def _encoder_stream(container: OutputContainer, source: AudioStream) -> AudioStream:
        codec = av.Codec(container.default_audio_codec, "w")
        rates = codec.audio_rates
        rate = source.rate if not rates or source.rate in rates else max(rates)
        return container.add_stream(codec.name, rate=rate, layout=source.layout.name)

    def write(self, packet: av.Packet) -> None:
        """Copy one input packet, or decode it and encode what it holds."""
        if self.copy:
            if packet.pts is not None:
                packet.pts -= self.shift
            if packet.dts is not None:
                packet.dts -= self.shift
            packet.stream = self.stream
            self.container.mux(packet)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError as err:
            raise UserError(f"an audio stream of {packet.stream.container.name} is corrupt ({err.strerror or err}); "
                            "re-export the video, or write to .mkv, which takes the audio as it is") from None
        for frame in frames:
            if frame.pts is not None:
                frame.pts -= self.shift
            self.container.mux(self.stream.encode(frame))

    def flush(self) -> None:
        """Drain the encoder, if there is one."""
        if not self.copy:
            self.container.mux(self.stream.encode(None))
