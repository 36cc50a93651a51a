"""Live: speech from a microphone (or a file played in real time) to face motion as it arrives,
streamed to Unreal's Live Link and to VTuber apps over VMC.

- `inputs`: where the sound comes from (a sound device, or a file paced in real time), in
  blocks stamped with the time they reached the input.
- `listener`: the streaming listener: speech activity, phones (PocketSphinx's phone loop,
  decoded as the audio arrives), pitch and loudness, as the motion model's per-frame features.
- `performer`: stage 2 on a sliding window whose past frames are held fixed (the inpainting of
  segment regeneration), with the take's blinks and sealed bilabials, and the instruction
  cross-faded when it changes.
- `senders`: Live Link Face packets and VMC (OSC) bundles over UDP, never blocking.
- `session`: the loop that ties them together, paces the frames out, keeps the recording.
"""
