"""Data files shipped with the program: the face mesh, the demo take, the motion model, licences."""
