"""The paper's evaluation protocols (DragGAN Tables 1 and 2, and its ablations), shared by the bench scripts.

Everything here drives the generator through the `LatentGenerator` interface and the drag through
`pipeline.drag.drag`, so one protocol serves the 64 px demo model and StyleGAN2 FFHQ-512 alike.
Points are (x, y) px of the generated image, pixel centres at integers (the drag's convention).
"""
