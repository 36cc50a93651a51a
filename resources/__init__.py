"""Data files shipped with the program: the face mesh, the demo take, licences."""
