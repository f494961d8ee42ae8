"""Realistic wrong submissions: one named edit of the reference answer each, per notebook.

MUTANTS[assignment][name] = (edits, parts that must score 0, words the failing part's message must contain).
Parts outside the set must keep full marks, so a cascade (a later function calling a broken one) is
written down here rather than tolerated silently.
"""

CELL_FWD, FWD, CELL_BWD, BWD, SAMPLE, SOFTMAX = (
    "test_rnn_cell_forward", "test_rnn_forward", "test_rnn_cell_backward", "test_rnn_backward", "test_sample",
    "test_softmax")

RNN_01 = {
    # softmax
    "softmax_over_batch_axis": (
        {"softmax": [("z.max(axis=-1", "z.max(axis=0"), ("e.sum(axis=-1", "e.sum(axis=0")]},
        {SOFTMAX}, "axis 0"),
    "softmax_sums_over_axis_0_after_each_rows_max": (  # not in the catalogue: located by the rows' sums
        {"softmax": [("e.sum(axis=-1", "e.sum(axis=0")]}, {SOFTMAX}, "the rows do not sum to 1"),
    "softmax_without_max_subtraction": (
        {"softmax": [("z = z - z.max(axis=-1, keepdims=True)", "pass")]}, {SOFTMAX}, "overflow"),
    "softmax_with_one_max_for_the_whole_batch": (  # seen in two independent solutions, one from a public answer
        {"softmax": [("z.max(axis=-1, keepdims=True)", "z.max()")]}, {SOFTMAX}, "each row's own maximum"),
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
    "h_prev_wraps_to_the_last_state_at_t0": (  # h[:, -1] at t = 0: only step 0 is wrong
        {"rnn_backward": [("h_prev = h0 if t == 0 else h[:, t - 1]", "h_prev = h[:, t - 1]")]}, {BWD},
        "only step t = 0 is wrong"),
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

JAC, PRODUCT = "test_step_jacobian", "test_jacobian_product"
NORMS, CLIP = "test_hidden_grad_norms", "test_clip_grad_norm"
_CLIP_BODY = """    total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
    if total_norm > max_norm:
        for g in grads:
            g.mul_(max_norm / total_norm)"""

GRADIENTS_02 = {
    # one step's Jacobian (jacobian_product calls it, so it fails too)
    "jacobian_without_tanh_derivative": (
        {"step_jacobian": [('(1 - h_t**2)[:, :, None] * params["W_hh"]',
                            'np.broadcast_to(params["W_hh"], (len(h_t),) + params["W_hh"].shape)')]},
        {JAC, PRODUCT}, "tanh derivative diag(1 - h_t^2) is missing"),
    "jacobian_with_transposed_W_hh": (
        {"step_jacobian": [('params["W_hh"]', 'params["W_hh"].T')]}, {JAC, PRODUCT}, "W_hh is transposed"),
    "jacobian_derivative_scales_columns": (
        {"step_jacobian": [("[:, :, None]", "[:, None, :]")]}, {JAC, PRODUCT}, "scales the columns"),
    # the product over k steps
    "jacobian_product_in_wrong_order": (
        {"jacobian_product": [("J = step_jacobian(h[:, s], params) @ J", "J = J @ step_jacobian(h[:, s], params)")]},
        {PRODUCT}, "wrong order"),
    "jacobian_product_one_factor_short": (
        {"jacobian_product": [("range(T - k, T)", "range(T - k + 1, T)")]}, {PRODUCT}, "one factor too few"),
    # dL/dh_t by hand
    "grad_norms_without_tanh_derivative": (
        {"hidden_grad_norms": [('dh = (dh * (1 - h[:, t] ** 2)) @ params["W_hh"]', 'dh = dh @ params["W_hh"]')]},
        {NORMS}, "tanh derivative (1 - h_t^2) is missing"),
    "grad_norms_with_transposed_W_hh": (
        {"hidden_grad_norms": [('@ params["W_hh"]', '@ params["W_hh"].T')]}, {NORMS}, "W_hh is transposed"),
    "grad_norms_jacobian_not_transposed": (
        {"hidden_grad_norms": [('dh = (dh * (1 - h[:, t] ** 2)) @ params["W_hh"]',
                                'dh = (dh @ params["W_hh"].T) * (1 - h[:, t] ** 2)')]},
        {NORMS}, "not its transpose"),
    "grad_norms_derivative_of_previous_state": (
        {"hidden_grad_norms": [("(1 - h[:, t] ** 2)", "(1 - h[:, t - 1] ** 2)")]}, {NORMS}, "uses h_{t-1}"),
    # clipping
    "clip_each_tensor_by_its_own_norm": (
        {"clip_grad_norm": [(_CLIP_BODY, """    total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        if g.norm() > max_norm:
            g.mul_(max_norm / g.norm())""")]},
        {CLIP}, "clipped by its own norm"),
    "clip_scales_small_gradients_up": (
        {"clip_grad_norm": [("if total_norm > max_norm:", "if True:")]}, {CLIP}, "scaled up"),
    "clip_by_value": (
        {"clip_grad_norm": [("g.mul_(max_norm / total_norm)", "g.clamp_(-max_norm, max_norm)")]}, {CLIP}, "by value"),
    "clip_scales_by_half_the_factor": (  # not in the catalogue: the returned norm tells the norm is right
        {"clip_grad_norm": [("g.mul_(max_norm / total_norm)", "g.mul_(max_norm / (2 * total_norm))")]},
        {CLIP}, "is right: the rescaling of the gradients is what is wrong"),
    "clip_not_in_place": (
        {"clip_grad_norm": [("g.mul_(max_norm / total_norm)", "g = g * (max_norm / total_norm)")]},
        {CLIP}, "in place"),
    "clip_walks_a_generator_twice": (
        {"clip_grad_norm": [("grads = [p.grad for p in parameters if p.grad is not None]\n" + _CLIP_BODY, """\
total_norm = torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))
    if total_norm > max_norm:
        for g in (p.grad for p in parameters if p.grad is not None):
            g.mul_(max_norm / total_norm)""")]},
        {CLIP}, "iterated only once"),
    "clip_returns_norm_after_clipping": (
        {"clip_grad_norm": [("return total_norm", "return torch.clamp(total_norm, max=max_norm)")]},
        {CLIP}, "norm after clipping"),
}

GATES, CELL, FUSED, LAYER = "test_lstm_gates", "test_lstm_cell", "test_lstm_cell_fused", "test_lstm_layer"
FROM_TORCH, TO_TORCH, CELL_BACK = "test_gates_from_torch", "test_gates_to_torch", "test_lstm_cell_backward"
USE_GATES = {GATES, CELL, CELL_BACK}
_FUSED_BODY = """    a = x_t @ W.T + h_prev @ V.T + b
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
    i_t, f_t, g_t, o_t = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
    c_t = f_t * c_prev + i_t * g_t
    h_t = o_t * torch.tanh(c_t)
    return h_t, c_t"""
_LAYER_BODY = """    h_t, c_t = state
    outputs = []
    for t in range(T):
        h_t, c_t = lstm_cell_fused(x[:, t], h_t, c_t, W, V, b)
        outputs.append(h_t)
    return torch.stack(outputs, dim=1), (h_t, c_t)"""

LSTM_03 = {
    # the gates (lstm_cell and lstm_cell_backward call lstm_gates, so they fail too)
    "candidate_with_sigmoid": (
        {"lstm_gates": [("g_t = torch.tanh(", "g_t = torch.sigmoid(")]}, USE_GATES, "sigmoid used where g_t"),
    "forget_gate_with_tanh": (
        {"lstm_gates": [("f_t = torch.sigmoid(", "f_t = torch.tanh(")]}, USE_GATES, "tanh used where f_t"),
    "forget_gate_without_recurrent_term": (
        {"lstm_gates": [(' + h_prev @ p["V_f"].T', "")]}, USE_GATES, "V_f h_{t-1} is missing"),
    "gates_returned_in_wrong_order": (
        {"lstm_gates": [("return f_t, i_t, g_t, o_t", "return i_t, f_t, g_t, o_t")]}, USE_GATES, "wrong order"),
    # the cell update and the output
    "forget_gate_applied_to_h": (
        {"lstm_cell": [("c_t = f_t * c_prev", "c_t = f_t * h_prev")]}, {CELL}, "forget gate multiplies h_{t-1}"),
    "output_from_previous_cell_state": (
        {"lstm_cell": [("h_t = o_t * torch.tanh(c_t)", "h_t = o_t * torch.tanh(c_prev)")]}, {CELL},
        "tanh(c_{t-1})"),
    "output_activation_in_place": (  # right forward values; autograd cannot go back through it
        {"lstm_cell": [("h_t = o_t * torch.tanh(c_t)", "h_t = torch.tanh(c_t).mul_(o_t)")]}, {CELL},
        "in lstm_cell: h_t = torch.tanh(c_t).mul_(o_t)"),
    "output_without_tanh": (
        {"lstm_cell": [("h_t = o_t * torch.tanh(c_t)", "h_t = o_t * c_t")]}, {CELL}, "tanh is missing from the output"),
    # the backward pass by hand
    "backward_without_the_path_through_h": (
        {"lstm_cell_backward": [("dc = dc_t + dh_t * o_t * (1 - tanh_c**2)", "dc = dc_t")]}, {CELL_BACK},
        "reaches c_t through h_t"),
    "backward_tanh_derivative_of_c": (
        {"lstm_cell_backward": [("(1 - tanh_c**2)", "(1 - c_t**2)")]}, {CELL_BACK}, "1 - c_t²"),
    "backward_forget_gate_times_new_cell": (
        {"lstm_cell_backward": [('"f": dc * c_prev', '"f": dc * c_t')]}, {CELL_BACK}, "f_t multiplies c_{t-1}"),
    "backward_candidate_with_sigmoid_derivative": (
        {"lstm_cell_backward": [("(1 - g_t**2)", "g_t * (1 - g_t)")]}, {CELL_BACK}, "g_t uses tanh"),
    "backward_biases_averaged": (
        {"lstm_cell_backward": [("da_k.sum(dim=0)", "da_k.mean(dim=0)")]}, {CELL_BACK}, "averaged over the batch"),
    "backward_by_autograd": (  # the right numbers, by the shortcut the part forbids
        {"lstm_cell_backward": [("    f_t, i_t, g_t, o_t = lstm_gates(x_t, h_prev, p)  # the forward step again", """\
    with torch.enable_grad():
        given = [t.detach().requires_grad_() for t in (x_t, h_prev, c_prev, *p.values())]
        h_t, c_t = lstm_cell(*given[:3], dict(zip(p, given[3:])))
        d = torch.autograd.grad((h_t * dh_t).sum() + (c_t * dc_t).sum(), given)
    return d[0], d[1], d[2], dict(zip(p, d[3:]))""")]},
        {CELL_BACK}, "lets autograd compute the gradients"),
    # the fused cell (lstm_layer calls it)
    "fused_gates_read_in_cs231n_order": (
        {"lstm_cell_fused": [("a_i, a_f, a_g, a_o = a.chunk", "a_i, a_f, a_o, a_g = a.chunk")]},
        {FUSED, LAYER}, "order i, f, o, g"),
    "fused_candidate_with_sigmoid": (
        {"lstm_cell_fused": [("torch.tanh(a_g)", "torch.sigmoid(a_g)")]}, {FUSED, LAYER}, "sigmoid used where g_t"),
    "fused_cell_calls_torch_lstm_cell": (
        {"lstm_cell_fused": [(_FUSED_BODY,
                              "    return torch.lstm_cell(x_t, (h_prev, c_prev), W, V, b, torch.zeros_like(b))")]},
        {FUSED, LAYER}, "ready-made"),
    "fused_cell_calls_aten_lstm_cell": (  # the op spelled as torch.ops.aten: caught where it reaches torch
        {"lstm_cell_fused": [(_FUSED_BODY, "    return torch.ops.aten.lstm_cell.default(x_t, [h_prev, c_prev], W, V, "
                                           "b, torch.zeros_like(b))")]},
        {FUSED, LAYER}, "ready-made"),
    # the layer
    "layer_calls_aten_lstm": (
        {"lstm_layer": [(_LAYER_BODY, """    weights = [W, V, b, torch.zeros_like(b)]
    out, h, c = torch.ops.aten.lstm.input(x, [state[0][None], state[1][None]], weights,
                                          True, 1, 0.0, False, False, True)
    return out, (h[0], c[0])""")]},
        {LAYER}, "ready-made"),
    "layer_calls_nn_LSTM": (
        {"lstm_layer": [(_LAYER_BODY, """\
    lstm = nn.LSTM(x.shape[-1], H, batch_first=True).to(x.device, x.dtype)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W)
        lstm.weight_hh_l0.copy_(V)
        lstm.bias_ih_l0.copy_(b)
        lstm.bias_hh_l0.zero_()
    out, (h, c) = lstm(x, (state[0][None], state[1][None]))
    return out, (h[0], c[0])""")]},
        {LAYER}, "ready-made"),
    "layer_outputs_cell_states": (
        {"lstm_layer": [("outputs.append(h_t)", "outputs.append(c_t)")]}, {LAYER}, "outputs hold the cell states"),
    # loading weights
    "from_torch_in_cs231n_order": (
        {"gates_from_torch": [('("i", "f", "g", "o")', '("i", "f", "o", "g")')]},
        {FROM_TORCH}, "torch.nn.LSTM stacks"),
    "from_torch_reads_one_bias": (
        {"gates_from_torch": [("b = lstm.bias_ih_l0 + lstm.bias_hh_l0", "b = lstm.bias_ih_l0")]},
        {FROM_TORCH}, "only bias_ih was read"),
    "to_torch_in_cs231n_order": (
        {"gates_to_torch": [('order = ("i", "f", "g", "o")', 'order = ("i", "f", "o", "g")')]},
        {TO_TORCH}, "stacked in the order i, f, o, g"),
    "to_torch_keeps_bias_hh": (
        {"gates_to_torch": [("        lstm.bias_hh_l0.zero_()\n", "")]}, {TO_TORCH}, "bias_hh was left"),
}

GRU_GATES, CHO, RELABEL = "test_gru_gates", "test_gru_cell_cho", "test_relabel_update_gate"
TORCH_CELL, GRU_LAYER = "test_gru_cell_torch", "test_gru_layer"
_TORCH_CELL_BODY = """    a_r, a_z, a_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)      # input parts
    u_r, u_z, u_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=-1)   # recurrent parts; u_n holds b_hn
    r_t = torch.sigmoid(a_r + u_r)
    z_t = torch.sigmoid(a_z + u_z)
    n_t = torch.tanh(a_n + r_t * u_n)
    return (1 - z_t) * n_t + z_t * h_prev"""
_GRU_LAYER_BODY = """    h_t, outputs = h_0, []
    for t in range(T):
        h_t = gru_cell_torch(x[:, t], h_t, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h_t)
    return torch.stack(outputs, dim=1), h_t"""

GRU_04 = {
    # the gates (the Cho cell calls them)
    "update_gate_with_tanh": (
        {"gru_gates": [("z_t = torch.sigmoid(", "z_t = torch.tanh(")]}, {GRU_GATES, CHO},
        "tanh used where z_t (update gate) needs sigmoid"),
    "gru_gates_returned_swapped": (
        {"gru_gates": [("return r_t, z_t", "return z_t, r_t")]}, {GRU_GATES, CHO}, "wrong order"),
    # Cho's form
    "cho_z_and_one_minus_z_swapped": (
        {"gru_cell_cho": [("h_t = (1 - z_t) * n_t + z_t * h_prev", "h_t = z_t * n_t + (1 - z_t) * h_prev")]},
        {CHO}, "z_t and 1 − z_t are swapped"),
    "cho_reset_after_the_product": (
        {"gru_cell_cho": [('(r_t * h_prev) @ p["V_n"].T', 'r_t * (h_prev @ p["V_n"].T)')]},
        {CHO}, "wrong place for this form: Cho's form resets h_{t-1} before"),
    "cho_candidate_with_sigmoid": (
        {"gru_cell_cho": [("n_t = torch.tanh(", "n_t = torch.sigmoid(")]}, {CHO},
        "sigmoid used where the candidate n_t needs tanh"),
    "cho_update_gate_in_candidate": (
        {"gru_cell_cho": [("(r_t * h_prev)", "(z_t * h_prev)")]}, {CHO}, "update gate z_t where the reset gate"),
    # the two conventions
    "relabel_one_minus_weights": (
        {"relabel_update_gate": [("q[name] = -p[name]", "q[name] = 1 - p[name]")]}, {RELABEL}, "became 1 −"),
    "relabel_edits_p_in_place": (
        {"relabel_update_gate": [("q = dict(p)", "q = p")]}, {RELABEL}, "changed the dict it was given"),
    # torch's form (the layer calls the cell)
    "torch_cell_z_and_one_minus_z_swapped": (
        {"gru_cell_torch": [("return (1 - z_t) * n_t + z_t * h_prev", "return z_t * n_t + (1 - z_t) * h_prev")]},
        {TORCH_CELL, GRU_LAYER}, "z_t and 1 − z_t are swapped"),
    "torch_cell_reset_before_the_product": (
        {"gru_cell_torch": [("n_t = torch.tanh(a_n + r_t * u_n)", """H = h_prev.shape[-1]
    n_t = torch.tanh(a_n + (r_t * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])""")]},
        {TORCH_CELL, GRU_LAYER}, "wrong place for this form: torch's form resets after"),
    "torch_cell_b_hn_outside_the_reset": (
        {"gru_cell_torch": [("(x_t @ W_ih.T + b_ih)", "(x_t @ W_ih.T + b_ih + b_hh)"),
                            ("(h_prev @ W_hh.T + b_hh)", "(h_prev @ W_hh.T)")]},
        {TORCH_CELL, GRU_LAYER}, "b_hn is added outside the reset"),
    "torch_cell_blocks_in_keras_order": (
        {"gru_cell_torch": [("a_r, a_z, a_n =", "a_z, a_r, a_n ="), ("u_r, u_z, u_n =", "u_z, u_r, u_n =")]},
        {TORCH_CELL, GRU_LAYER}, "order z, r, n"),
    "torch_cell_calls_torch_gru_cell": (
        {"gru_cell_torch": [(_TORCH_CELL_BODY, "    return torch.gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)")]},
        {TORCH_CELL, GRU_LAYER}, "ready-made"),
    "torch_cell_calls_aten_gru_cell": (
        {"gru_cell_torch": [(_TORCH_CELL_BODY, "    return torch.ops.aten.gru_cell.default(x_t, h_prev, W_ih, W_hh, "
                                               "b_ih, b_hh)")]},
        {TORCH_CELL, GRU_LAYER}, "ready-made"),
    # the layer
    "gru_layer_calls_aten_gru": (
        {"gru_layer": [(_GRU_LAYER_BODY, """\
    out, h_T = torch.ops.aten.gru.input(x, h_0[None], [W_ih, W_hh, b_ih, b_hh], True, 1, 0.0, False, False, True)
    return out, h_T[0]""")]},
        {GRU_LAYER}, "ready-made"),
    "gru_layer_calls_nn_GRU": (
        {"gru_layer": [(_GRU_LAYER_BODY, """\
    gru = nn.GRU(x.shape[-1], W_hh.shape[1], batch_first=True).to(x.device, x.dtype)
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), (W_ih, W_hh, b_ih, b_hh)):
            getattr(gru, name).copy_(value)
    out, h_T = gru(x, h_0[None])
    return out, h_T[0]""")]},
        {GRU_LAYER}, "ready-made"),
    "gru_layer_feeds_h0_to_every_step": (
        {"gru_layer": [("gru_cell_torch(x[:, t], h_t,", "gru_cell_torch(x[:, t], h_0,")]}, {GRU_LAYER},
        "h_0 is fed to every step"),
    "gru_layer_outputs_one_step_late": (
        {"gru_layer": [("""        h_t = gru_cell_torch(x[:, t], h_t, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h_t)""", """        outputs.append(h_t)
        h_t = gru_cell_torch(x[:, t], h_t, W_ih, W_hh, b_ih, b_hh)""")]}, {GRU_LAYER}, "one step late"),
    # loading weights
    "gru_from_torch_in_keras_order": (
        {"gates_from_torch": [('("r", "z", "n")', '("z", "r", "n")')]}, {FROM_TORCH}, "torch.nn.GRU stacks r, z, n"),
    "gru_from_torch_reads_one_bias": (
        {"gates_from_torch": [("b = gru.bias_ih_l0 + gru.bias_hh_l0", "b = gru.bias_ih_l0")]},
        {FROM_TORCH}, "only bias_ih was read"),
}

REVERSE, BIDIR, SUMMARY, CLASSIFIER = "test_reverse_time", "test_bidirectional", "test_summary", "test_classifier"

BILSTM_05 = {
    # the pasted LSTM (the classifier runs it; bidirectional is checked with torch's one-direction LSTMs)
    "pasted_lstm_in_cs231n_order": (
        {"lstm_layer": [("a_i, a_f, a_g, a_o = a.chunk", "a_i, a_f, a_o, a_g = a.chunk")]},
        {LAYER, CLASSIFIER}, "fails notebook 03's check of lstm_cell_fused on its own: fix lstm_cell_fused first"),
    # reversing within lengths
    "reverse_the_whole_padded_tensor": (
        {"reverse_time": [("    if lengths is None:\n        return x.flip(1)\n", "    return x.flip(1)\n")]},
        {REVERSE, BIDIR, CLASSIFIER}, "whole padded sequence was reversed"),
    # the two directions
    "reverse_time_zeroes_the_padding": (  # not in the catalogue: the padding positions are named
        {"reverse_time": [("    out = x.clone()\n", "    out = torch.zeros_like(x)\n")]}, {REVERSE},
        "which must come in reverse order: right; the padding positions (t >= lengths[i])"),
    "backward_direction_runs_the_forward_layer": (  # not in the catalogue: the wrong half is named
        {"bidirectional": [("out_b, _ = backward(", "out_b, _ = forward(")]}, {BIDIR, CLASSIFIER},
        "the forward direction's half (features :H) at real steps: right; the backward direction's half"),
    "backward_outputs_left_reversed": (
        {"bidirectional": [("torch.cat([out_f, reverse_time(out_b, lengths)]", "torch.cat([out_f, out_b]")]},
        {BIDIR, CLASSIFIER}, "left in reversed order"),
    "directions_concatenated_backward_first": (
        {"bidirectional": [("torch.cat([out_f, reverse_time(out_b, lengths)]",
                            "torch.cat([reverse_time(out_b, lengths), out_f]")]},
        {BIDIR, CLASSIFIER}, "concatenated in the wrong order"),
    "backward_direction_reads_the_padding": (
        {"bidirectional": [("backward(reverse_time(x, lengths))", "backward(x.flip(1))"),
                           ("reverse_time(out_b, lengths)", "out_b.flip(1)")]},
        {BIDIR, CLASSIFIER}, "backward direction reads the padding"),
    "padding_positions_not_zeroed": (
        {"bidirectional": [("        out = out * mask[..., None]\n", "")]}, {BIDIR}, "padding positions are not 0"),
    # the summary
    "summary_forward_half_at_padded_end": (
        {"summary": [("last = outputs[torch.arange(outputs.shape[0]), lengths.to(outputs.device) - 1]",
                      "last = outputs[:, -1]")]},
        {SUMMARY, CLASSIFIER}, "last padded step"),
    "summary_backward_half_at_last_step": (
        {"summary": [("outputs[:, 0, H:]", "last[:, H:]")]}, {SUMMARY, CLASSIFIER},
        "backward half is taken at the last step"),
    # the classifier
    "classifier_zero_out_ignores_its_input": (  # passed when the reference reused the learner's own `out`
        {"classifier": [("        self.out = nn.Linear(2 * hidden_size, n_classes)\n",
                         "        self.out = nn.Linear(2 * hidden_size, n_classes)\n"
                         "        nn.init.zeros_(self.out.weight)\n        nn.init.zeros_(self.out.bias)\n"),
                        ("return torch.softmax(self.out(summary(outputs, lengths)), dim=-1)",
                         "return torch.softmax(self.out(torch.zeros_like(summary(outputs, lengths))), dim=-1)")]},
        {CLASSIFIER}, "class probabilities is wrong"),
    "classifier_returns_logits": (
        {"classifier": [("return torch.softmax(self.out(summary(outputs, lengths)), dim=-1)",
                         "return self.out(summary(outputs, lengths))")]},
        {CLASSIFIER}, "these are the logits"),
}

FUSED, STEP, PRECOMPUTED = "test_lstm_layer_fused", "test_lstm_step", "test_lstm_layer_precomputed"

SPEED_06 = {
    "fused_layer_eight_products_per_step": (  # right values, one product per gate and term: not what is asked
        {"lstm_layer_fused": [("""        a = x[:, t] @ W.T + h_t @ V.T + b
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)""", """        blocks = zip(W.chunk(4), V.chunk(4), b.chunk(4))
        a_i, a_f, a_g, a_o = (x[:, t] @ W_k.T + h_t @ V_k.T + b_k for W_k, V_k, b_k in blocks)""")]},
        {FUSED}, "8 per step"),
    "fused_layer_without_bias": (
        {"lstm_layer_fused": [("a = x[:, t] @ W.T + h_t @ V.T + b", "a = x[:, t] @ W.T + h_t @ V.T")]},
        {FUSED}, "the bias b is missing"),
    "fused_layer_sigmoid_for_g": (
        {"lstm_layer_fused": [("torch.sigmoid(a_i) * torch.tanh(a_g)", "torch.sigmoid(a_i) * torch.sigmoid(a_g)")]},
        {FUSED}, "outputs (h_t at every step) is wrong"),
    # the step (the precomputed layer calls it)
    "step_blocks_in_order_i_f_o_g": (
        {"lstm_step": [("a_i, a_f, a_g, a_o = a.chunk", "a_i, a_f, a_o, a_g = a.chunk")]},
        {STEP, PRECOMPUTED}, "order i, f, o, g"),
    "step_sigmoid_for_g": (
        {"lstm_step": [("torch.sigmoid(a_i) * torch.tanh(a_g)", "torch.sigmoid(a_i) * torch.sigmoid(a_g)")]},
        {STEP, PRECOMPUTED}, "sigmoid used where g_t"),
    "step_without_tanh_of_c": (
        {"lstm_step": [("h_t = torch.sigmoid(a_o) * torch.tanh(c_t)", "h_t = torch.sigmoid(a_o) * c_t")]},
        {STEP, PRECOMPUTED}, "tanh(c_t) is missing"),
    "step_detaches_its_outputs": (
        {"lstm_step": [("return h_t, c_t", "return h_t.detach(), c_t.detach()")]},
        {STEP, PRECOMPUTED}, "carry no gradient"),
    # the layer
    "precomputed_projection_inside_the_loop": (
        {"lstm_layer_precomputed": [("    for gx_t in gx.unbind(dim=1):  # not gx[:, t]: see above\n"
                                     "        h_t, c_t = step(gx_t, h_t, c_t, V)",
                                     "    for t in range(T):\n"
                                     "        h_t, c_t = step(x[:, t] @ W.T + b, h_t, c_t, V)")]},
        {PRECOMPUTED}, "matrix products for T = 6 steps"),
    "precomputed_projection_inside_the_loop_with_linalg_matmul": (  # every spelling of a product is counted
        {"lstm_layer_precomputed": [("    for gx_t in gx.unbind(dim=1):  # not gx[:, t]: see above\n"
                                     "        h_t, c_t = step(gx_t, h_t, c_t, V)",
                                     "    for t in range(T):\n"
                                     "        h_t, c_t = step(torch.linalg.matmul(x[:, t], W.T) + b, h_t, c_t, V)")]},
        {PRECOMPUTED}, "matrix products for T = 6 steps"),
    "precomputed_ignores_step": (  # right values, but the race's compiled step would never run
        {"lstm_layer_precomputed": [("step(gx_t, h_t, c_t, V)", "lstm_step(gx_t, h_t, c_t, V)")]},
        {PRECOMPUTED}, "called its `step` argument 0 times"),
    "precomputed_bias_added_twice": (
        {"lstm_layer_precomputed": [("step(gx_t, h_t, c_t, V)", "step(gx_t + b, h_t, c_t, V)")]},
        {PRECOMPUTED}, "the bias b is added twice"),
    "precomputed_state_never_advances": (
        {"lstm_layer_precomputed": [("        h_t, c_t = step(gx_t, h_t, c_t, V)\n        outputs.append(h_t)",
                                     "        h, c = step(gx_t, h_t, c_t, V)\n        outputs.append(h)")]},
        {PRECOMPUTED}, "carry h_t and c_t on to the next step"),
}

MUTANTS = {"01_rnn": RNN_01, "02_vanishing_gradients": GRADIENTS_02, "03_lstm": LSTM_03, "04_gru": GRU_04,
           "05_bilstm": BILSTM_05, "06_lstm_speed": SPEED_06}
