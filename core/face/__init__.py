"""The built-in preview head: the MediaPipe canonical face with 52 ARKit blendshapes."""
