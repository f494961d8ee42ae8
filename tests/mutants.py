"""Realistic wrong submissions for notebook 01: one named edit of the reference answer each.

MUTANTS[name] = (edits, parts that must score 0, words the failing part's message must contain).
Parts outside the set must keep full marks, so a cascade (a later function calling a broken one) is
written down here rather than tolerated silently.
"""

CELL_FWD, FWD, CELL_BWD, BWD, SAMPLE, SOFTMAX = (
    "test_rnn_cell_forward", "test_rnn_forward", "test_rnn_cell_backward", "test_rnn_backward", "test_sample",
    "test_softmax")

MUTANTS = {
    # softmax
    "softmax_over_batch_axis": (
        {"softmax": [("z.max(axis=-1", "z.max(axis=0"), ("e.sum(axis=-1", "e.sum(axis=0")]},
        {SOFTMAX}, "axis 0"),
    "softmax_without_max_subtraction": (
        {"softmax": [("z = z - z.max(axis=-1, keepdims=True)", "pass")]}, {SOFTMAX}, "overflow"),
    # the cell
    "sigmoid_instead_of_tanh": (
        {"rnn_cell_forward": [("h_t = np.tanh(", "sigmoid = lambda a: 1 / (1 + np.exp(-a))\n    h_t = sigmoid(")]},
        {CELL_FWD, FWD, SAMPLE}, "sigmoid used where h_t needs tanh"),
    "missing_bias_b_h": (
        {"rnn_cell_forward": [(' + params["b_h"])', ")")]}, {CELL_FWD, FWD}, "b_h is missing"),
    "missing_recurrent_term": (
        {"rnn_cell_forward": [(' + h_prev @ params["W_hh"].T', "")]},
        {CELL_FWD, FWD, SAMPLE}, "recurrent term W_hh h_{t-1} is missing"),
    "output_from_previous_state": (
        {"rnn_cell_forward": [("y_t = h_t @", "y_t = h_prev @")]}, {CELL_FWD, FWD, SAMPLE}, "from h_{t-1}"),
    # the sequence forward
    "h0_fed_to_every_step": (
        {"rnn_forward": [("rnn_cell_forward(x[:, t], h_t, params)", "rnn_cell_forward(x[:, t], h0, params)")]},
        {FWD}, "h_0 is fed to every step"),
    "states_stored_one_step_late": (
        {"rnn_forward": [("        h_t, y[:, t] = rnn_cell_forward(x[:, t], h_t, params)\n        h[:, t] = h_t",
                          "        h[:, t] = h_t\n        h_t, y[:, t] = rnn_cell_forward(x[:, t], h_t, params)")]},
        {FWD}, "shifted by one step"),
    # the cell backward
    "missing_tanh_derivative": (
        {"rnn_cell_backward": [("da = dh_t * (1 - h_t**2)", "da = dh_t")]},
        {CELL_BWD, BWD}, "tanh derivative (1 - h_t^2) is missing"),
    "sigmoid_derivative": (
        {"rnn_cell_backward": [("da = dh_t * (1 - h_t**2)", "da = dh_t * h_t * (1 - h_t)")]},
        {CELL_BWD, BWD}, "sigmoid derivative"),
    "dh_prev_with_transposed_W_hh": (
        {"rnn_cell_backward": [('dh_prev = da @ params["W_hh"]', 'dh_prev = da @ params["W_hh"].T')]},
        {CELL_BWD, BWD}, "W_hh is transposed"),
    "dW_hh_transposed": (
        {"rnn_cell_backward": [('"W_hh": da.T @ h_prev', '"W_hh": h_prev.T @ da')]},
        {CELL_BWD, BWD}, "dW_hh is transposed"),
    "db_h_averaged_over_batch": (
        {"rnn_cell_backward": [("da.sum(axis=0)", "da.mean(axis=0)")]}, {CELL_BWD, BWD}, "averaged"),
    # the sequence backward
    "gradients_overwritten_not_summed": (
        {"rnn_backward": [("grads[name] += g", "grads[name] = g")]}, {BWD}, "overwritten at each step"),
    "carried_gradient_dropped": (
        {"rnn_backward": [('params["W_hy"] + dh_next', 'params["W_hy"]')]}, {BWD}, "dh_next"),
    # sampling
    "argmax_instead_of_sampling": (
        {"sample": [("ix = int(rng.choice(V, p=p))", "ix = int(p.argmax())")]}, {SAMPLE}, "not argmax"),
    "temperature_multiplied": (
        {"sample": [("y[0] / temperature", "y[0] * temperature")]}, {SAMPLE}, "multiplied by the temperature"),
    "temperature_ignored": (
        {"sample": [("y[0] / temperature", "y[0]")]}, {SAMPLE}, "temperature is ignored"),
    "global_random_state": (
        {"sample": [("rng.choice(V, p=p)", "np.random.choice(V, p=p)")]}, {SAMPLE}, "the `rng` argument"),
    "sample_not_fed_back": (
        {"sample": [("ix = int(rng.choice(V, p=p))\n        out.append(ix)", "out.append(int(rng.choice(V, p=p)))")]},
        {SAMPLE}, "fed back"),
    "hidden_state_not_carried": (
        {"sample": [("h, y = rnn_cell_forward(x, h, params)", "h_new, y = rnn_cell_forward(x, h, params)")]},
        {SAMPLE}, "hidden state h must be carried"),
}
