"""Image science: I/O, colour conversion, resizing, degradations.

Images are ``(H, W, C)`` float32 arrays in [0, 1], C = 1 (gray) or 3 (RGB), never BGR.
Nothing here imports the autograd or nn stack, so the numbers that judge a model do not
depend on the code that trains it.
"""
