"""Views that teach what a layer computes, with the numbers of the lecture notes: convolution and
pooling step by step, and the commands that open them."""
