"""Wrong submissions for solutions/04_cnn_im2col: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # Jin (2016)'s formula without the floor (a catalogued slip)
    ("output_size", "(size + 2 * pad - kernel) // stride + 1", "(size + 2 * pad - kernel) / stride + 1",
     ["test_output_size"], ["Recognised mistake", "floor"]),
    # the padded buffer cropped one pixel off (a catalogued slip; it used to get "No simple pattern")
    ("my_col2im", "    blocks = dcols.reshape(C, kh, kw, N, OH, OW)\n    dx = np.zeros(x_shape, dtype=dcols.dtype)",
     "    blocks = dcols.reshape(C, kh, kw, N, OH, OW)\n"
     "    xpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))\n"
     "    for p in range(kh):\n        for q in range(kw):\n"
     "            xpad[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += blocks[:, p, q].transpose(1, 0, 2, 3)\n"
     "    return xpad[:, :, pad + 1:pad + 1 + H, pad + 1:pad + 1 + W]\n"
     "    dx = np.zeros(x_shape, dtype=dcols.dtype)",
     ["test_my_col2im"], ["Recognised mistake", "your col2im crop is one pixel off"]),
    # wrong padding in col2im: a window hanging over the top/left border takes the FIRST kernel rows
    # instead of the ones that lie on real pixels -> wrong only near the border (a catalogued slip)
    ("my_col2im", "blocks[:, r_lo - r0:r_hi - r0, c_lo - c0:c_hi - c0, :, i, j]",
     "blocks[:, :r_hi - r_lo, :c_hi - c_lo, :, i, j]", ["test_my_col2im"], ["hangs over the border", "border"]),
    # dout reshaped to (F, N*OH*OW) without moving the filter axis first: samples and channels mixed
    ("conv_backward", "G = dout.transpose(1, 0, 2, 3).reshape(F, -1)", "G = dout.reshape(F, -1)",
     ["test_conv_backward"], ["Recognised mistake", "mixes samples and filters"]),
    # kernel not flipped in the input gradient (a full correlation instead of a full convolution)
    ("dx_full_convolution", "W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)", "W.transpose(1, 0, 2, 3)",
     ["test_dx_full_convolution"], ["not flipped"]),
    # the "as written" exercise repaired: not the printed formula
    ("dx_as_written", "W.transpose(1, 0, 2, 3)", "W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)",
     ["test_dx_as_written"], ["exactly as written"]),
    # the "as written" exercise answered with twice the printed formula: it must lose the point
    ("dx_as_written", "pad=K - 1)[0]", "pad=K - 1)[0] * 2", ["test_dx_as_written"], ["2 times"]),
    # max-pool gradient sent to every entry of the window instead of the winner only
    ("maxpool_backward", "dcols[winners, np.arange(winners.size)] = dout.reshape(-1)",
     "dcols[:, :] = dout.reshape(-1)", ["test_maxpool_backward"], ["not the maximum"]),
]
