"""Correct answers written independently of the reference, in other styles a learner may well choose.

STYLES[assignment][style] = {grade_id: the whole answer cell}. With the reference answer and the same answers
returning lists where tuples are asked (test_styles.AS_LISTS), each graded function has at least three
independently written correct versions, and every one of them must keep full marks. "explicit" spells things
out (slices, loops, einsum, in-place arithmetic on fresh tensors, Python floats); "compact" leans on library
calls (F.linear, torch.addmm, split, index tricks, float64 work on float32 inputs cast back).
"""

RNN_01 = {
    "explicit": {
        "softmax": '''def softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1)[..., None]
    exps = np.exp(shifted)
    totals = np.sum(exps, axis=-1)
    return exps / totals[..., None]
''',
        "rnn_cell_forward": '''def rnn_cell_forward(x_t, h_prev, params):
    a = np.einsum("nd,hd->nh", x_t, params["W_xh"])
    a += np.einsum("nk,hk->nh", h_prev, params["W_hh"])
    a += params["b_h"]
    h_t = np.tanh(a)
    y_t = np.einsum("nh,vh->nv", h_t, params["W_hy"]) + params["b_y"]
    return h_t, y_t
''',
        "rnn_forward": '''def rnn_forward(x, h0, params):
    hs, ys = [], []
    h_t = h0
    for t in range(x.shape[1]):
        h_t, y_t = rnn_cell_forward(x[:, t, :], h_t, params)
        hs.append(h_t)
        ys.append(y_t)
    return np.stack(ys, axis=1), np.stack(hs, axis=1)
''',
        "rnn_cell_backward": '''def rnn_cell_backward(dh_t, x_t, h_prev, h_t, params):
    dtanh = 1.0 - np.square(h_t)
    da = np.multiply(dh_t, dtanh)
    grads = {}
    grads["W_xh"] = np.einsum("nh,nd->hd", da, x_t)
    grads["W_hh"] = np.einsum("nh,nk->hk", da, h_prev)
    grads["b_h"] = np.sum(da, axis=0)
    dx_t = np.einsum("nh,hd->nd", da, params["W_xh"])
    dh_prev = np.einsum("nh,hk->nk", da, params["W_hh"])
    return dx_t, dh_prev, grads
''',
        "rnn_backward": '''def rnn_backward(dy, x, h0, h, params):
    N, T, _ = x.shape
    grads = {}
    for name in params:
        grads[name] = np.zeros(params[name].shape)
    dh_next = np.zeros(h0.shape)
    t = T - 1
    while t >= 0:
        if t > 0:
            h_prev = h[:, t - 1]
        else:
            h_prev = h0
        grads["W_hy"] = grads["W_hy"] + np.einsum("nv,nh->vh", dy[:, t], h[:, t])
        grads["b_y"] = grads["b_y"] + dy[:, t].sum(axis=0)
        dh = np.einsum("nv,vh->nh", dy[:, t], params["W_hy"]) + dh_next
        dx, dh_next, g = rnn_cell_backward(dh, x[:, t], h_prev, h[:, t], params)
        grads["W_xh"] = grads["W_xh"] + g["W_xh"]
        grads["W_hh"] = grads["W_hh"] + g["W_hh"]
        grads["b_h"] = grads["b_h"] + g["b_h"]
        t -= 1
    return grads, dh_next
''',
        "sample": '''def sample(params, h, ix, n, temperature=1.0, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    V = params["b_y"].shape[0]
    out = []
    current = ix
    for step in range(n):
        x = np.zeros((1, V))
        x[0, current] = 1.0
        h, y = rnn_cell_forward(x, h, params)
        probs = softmax(y / temperature)[0]
        current = rng.choice(np.arange(V), p=probs)
        out.append(int(current))
    return out
''',
    },
    "compact": {
        "softmax": '''def softmax(z):
    e = np.exp(z - np.amax(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
''',
        "rnn_cell_forward": '''def rnn_cell_forward(x_t, h_prev, params):
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    h_t = np.tanh(np.dot(x_t, W_xh.T) + np.dot(h_prev, W_hh.T) + b_h)
    return [h_t, np.dot(h_t, W_hy.T) + b_y]
''',
        "rnn_forward": '''def rnn_forward(x, h0, params):
    h = np.empty((x.shape[0], x.shape[1], params["W_hh"].shape[0]))
    y = np.empty((x.shape[0], x.shape[1], params["W_hy"].shape[0]))
    state = h0
    for t, x_t in enumerate(np.moveaxis(x, 1, 0)):
        state, y[:, t] = rnn_cell_forward(x_t, state, params)
        h[:, t] = state
    return y, h
''',
        "rnn_cell_backward": '''def rnn_cell_backward(dh_t, x_t, h_prev, h_t, params):
    da = dh_t - dh_t * h_t * h_t
    return np.dot(da, params["W_xh"]), np.dot(da, params["W_hh"]), {
        "W_xh": np.dot(da.T, x_t), "W_hh": np.dot(da.T, h_prev), "b_h": da.sum(0)}
''',
        "rnn_backward": '''def rnn_backward(dy, x, h0, h, params):
    grads = {k: 0 * v for k, v in params.items()}
    grads["W_hy"] = np.einsum("ntv,nth->vh", dy, h)
    grads["b_y"] = dy.sum(axis=(0, 1))
    prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    dh = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        dh = dh + dy[:, t] @ params["W_hy"]
        _, dh, g = rnn_cell_backward(dh, x[:, t], prev[:, t], h[:, t], params)
        for k in g:
            grads[k] += g[k]
    return grads, dh
''',
        "sample": '''def sample(params, h, ix, n, temperature=1.0, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    V = params["b_y"].shape[0]
    out = []
    while len(out) < n:
        h, y = rnn_cell_forward(np.eye(V)[[ix]], h, params)
        ix = rng.choice(V, p=softmax(y.ravel() / temperature))
        out.append(int(ix))
    return out
''',
    },
}

GRADIENTS_02 = {
    "explicit": {
        "step_jacobian": '''def step_jacobian(h_t, params):
    N, H = h_t.shape
    J = np.zeros((N, H, H))
    for n in range(N):
        J[n] = np.diag(1 - h_t[n] ** 2) @ params["W_hh"]
    return J
''',
        "jacobian_product": '''def jacobian_product(h, params, k):
    N, T, H = h.shape
    J = np.broadcast_to(np.eye(H), (N, H, H))
    result = np.array(J)
    for s in range(T - k, T):
        step = step_jacobian(h[:, s], params)
        result = np.einsum("nij,njk->nik", step, result)
    return result
''',
        "hidden_grad_norms": '''def hidden_grad_norms(dh_T, h, params):
    N, T, H = h.shape
    norms = np.zeros(T)
    dh = dh_T
    for t in range(T - 1, -1, -1):
        norms[t] = np.sqrt(np.sum(dh ** 2))
        J = step_jacobian(h[:, t], params)
        dh = np.einsum("ni,nij->nj", dh, J)
    return norms
''',
        "clip_grad_norm": '''def clip_grad_norm(parameters, max_norm):
    parameters = list(parameters)
    total = 0.0
    for p in parameters:
        if p.grad is not None:
            total += float((p.grad ** 2).sum())
    total_norm = total ** 0.5
    if total_norm > max_norm:
        scale = max_norm / total_norm
        for p in parameters:
            if p.grad is not None:
                p.grad *= scale
    return total_norm
''',
    },
    "compact": {
        "step_jacobian": '''def step_jacobian(h_t, params):
    return np.einsum("ni,ij->nij", 1 - h_t * h_t, params["W_hh"])
''',
        "jacobian_product": '''def jacobian_product(h, params, k):
    N, T, H = h.shape
    J = np.tile(np.eye(H), (N, 1, 1))
    for s in reversed(range(T - k, T)):
        J = J @ step_jacobian(h[:, s], params)
    return J
''',
        "hidden_grad_norms": '''def hidden_grad_norms(dh_T, h, params):
    N, T, H = h.shape
    norms, dh = [], dh_T
    for t in reversed(range(T)):
        norms.append(np.linalg.norm(dh.ravel()))
        dh = np.matmul(dh * (1 - np.square(h[:, t])), params["W_hh"])
    return np.array(norms[::-1])
''',
        "clip_grad_norm": '''def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    factor = torch.clamp(max_norm / total_norm, max=1.0)
    for g in grads:
        g.mul_(factor)
    return total_norm.item()
''',
    },
}

LSTM_03 = {
    "explicit": {
        "lstm_gates": '''def lstm_gates(x_t, h_prev, p):
    def gate(name, squash):
        a = torch.einsum("nd,hd->nh", x_t, p["W_" + name])
        a = a + torch.einsum("nk,hk->nh", h_prev, p["V_" + name])
        return squash(a + p["b_" + name])
    return gate("f", torch.sigmoid), gate("i", torch.sigmoid), gate("g", torch.tanh), gate("o", torch.sigmoid)
''',
        "lstm_cell": '''def lstm_cell(x_t, h_prev, c_prev, p):
    f_t, i_t, g_t, o_t = lstm_gates(x_t, h_prev, p)
    c_t = f_t * c_prev
    c_t += i_t * g_t   # in place, on a fresh tensor: autograd accepts it
    h_t = torch.tanh(c_t) * o_t
    return h_t, c_t
''',
        "lstm_cell_backward": '''def lstm_cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, p):
    def pre(name):
        return torch.einsum("nd,hd->nh", x_t, p["W_" + name]) + torch.einsum("nk,hk->nh", h_prev, p["V_" + name]) \\
            + p["b_" + name]
    f = 1 / (1 + torch.exp(-pre("f")))
    i = 1 / (1 + torch.exp(-pre("i")))
    g = torch.tanh(pre("g"))
    o = 1 / (1 + torch.exp(-pre("o")))
    c = f * c_prev + i * g
    dtanh = 1.0 - torch.tanh(c) ** 2
    d_c = dc_t.clone()
    d_c += dh_t * o * dtanh
    d_pre = {"f": d_c * c_prev * f * (1.0 - f), "i": d_c * g * i * (1.0 - i), "g": d_c * i * (1.0 - g * g),
             "o": dh_t * torch.tanh(c) * o * (1.0 - o)}
    dx_t = torch.zeros_like(x_t)
    dh_prev = torch.zeros_like(h_prev)
    grads = {}
    for name in ("f", "i", "g", "o"):
        d = d_pre[name]
        dx_t += torch.einsum("nh,hd->nd", d, p["W_" + name])
        dh_prev += torch.einsum("nh,hk->nk", d, p["V_" + name])
        grads["W_" + name] = torch.einsum("nh,nd->hd", d, x_t)
        grads["V_" + name] = torch.einsum("nh,nk->hk", d, h_prev)
        grads["b_" + name] = torch.einsum("nh->h", d)
    return dx_t, dh_prev, d_c * f, grads
''',
        "lstm_cell_fused": '''def lstm_cell_fused(x_t, h_prev, c_prev, W, V, b):
    H = h_prev.shape[1]
    a = torch.matmul(x_t, W.t()) + torch.matmul(h_prev, V.t()) + b
    i_t = torch.sigmoid(a[:, 0 * H:1 * H])
    f_t = torch.sigmoid(a[:, 1 * H:2 * H])
    g_t = torch.tanh(a[:, 2 * H:3 * H])
    o_t = torch.sigmoid(a[:, 3 * H:4 * H])
    c_t = f_t * c_prev + i_t * g_t
    return o_t * torch.tanh(c_t), c_t
''',
        "lstm_layer": '''def lstm_layer(x, state, W, V, b):
    N, T, _ = x.shape
    H = V.shape[1]
    if state is None:
        state = (x.new_zeros(N, H), x.new_zeros(N, H))
    h_t, c_t = state
    outputs = x.new_zeros(N, T, H)
    for t in range(T):
        h_t, c_t = lstm_cell_fused(x[:, t, :], h_t, c_t, W, V, b)
        outputs[:, t] = h_t
    return outputs, (h_t, c_t)
''',
        "gates_from_torch": '''def gates_from_torch(lstm):
    H = lstm.hidden_size
    p = {}
    with torch.no_grad():
        for k, gate in enumerate("ifgo"):
            p["W_" + gate] = lstm.weight_ih_l0[k * H:(k + 1) * H].clone()
            p["V_" + gate] = lstm.weight_hh_l0[k * H:(k + 1) * H].clone()
            p["b_" + gate] = lstm.bias_ih_l0[k * H:(k + 1) * H] + lstm.bias_hh_l0[k * H:(k + 1) * H]
    return p
''',
        "gates_to_torch": '''def gates_to_torch(p, lstm):
    H = lstm.hidden_size
    with torch.no_grad():
        for k, gate in enumerate("ifgo"):
            lstm.weight_ih_l0[k * H:(k + 1) * H] = p["W_" + gate]
            lstm.weight_hh_l0[k * H:(k + 1) * H] = p["V_" + gate]
            lstm.bias_ih_l0[k * H:(k + 1) * H] = p["b_" + gate]
            lstm.bias_hh_l0[k * H:(k + 1) * H] = 0.0
    return lstm
''',
    },
    "compact": {
        "lstm_gates": '''def lstm_gates(x_t, h_prev, p):
    F = torch.nn.functional
    pre = {g: F.linear(x_t, p[f"W_{g}"], p[f"b_{g}"]) + F.linear(h_prev, p[f"V_{g}"]) for g in "figo"}
    return [torch.tanh(pre[g]) if g == "g" else torch.sigmoid(pre[g]) for g in "figo"]
''',
        "lstm_cell": '''def lstm_cell(x_t, h_prev, c_prev, p):
    f_t, i_t, g_t, o_t = lstm_gates(x_t, h_prev, p)
    c_t = torch.addcmul(f_t * c_prev, i_t, g_t)
    return torch.mul(o_t, c_t.tanh()), c_t
''',
        "lstm_cell_backward": '''def lstm_cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, p):
    W = torch.cat([p[f"W_{g}"] for g in "figo"])
    V = torch.cat([p[f"V_{g}"] for g in "figo"])
    f, i, g, o = lstm_gates(x_t, h_prev, p)
    c = torch.addcmul(f * c_prev, i, g)
    dc = dc_t + dh_t * o * (1 - c.tanh().square())
    sig = lambda s: s * (1 - s)
    da = torch.cat([dc * c_prev * sig(f), dc * g * sig(i), dc * i * (1 - g.square()), dh_t * c.tanh() * sig(o)], 1)
    dW, dV, db = (da.T @ x_t).chunk(4), (da.T @ h_prev).chunk(4), da.sum(0).chunk(4)
    grads = {f"{k}_{gate}": d[n] for n, gate in enumerate("figo") for k, d in (("W", dW), ("V", dV), ("b", db))}
    return [da @ W, da @ V, dc * f, grads]
''',
        "lstm_cell_fused": '''def lstm_cell_fused(x_t, h_prev, c_prev, W, V, b):
    a = torch.addmm(b, x_t, W.T).addmm(h_prev, V.T)
    i_t, f_t, g_t, o_t = torch.split(a, h_prev.shape[-1], dim=1)
    c_t = torch.sigmoid(f_t) * c_prev + torch.sigmoid(i_t) * torch.tanh(g_t)
    return [torch.sigmoid(o_t) * torch.tanh(c_t), c_t]
''',
        "lstm_layer": '''def lstm_layer(x, state, W, V, b):
    N, T, _ = x.shape
    H = V.shape[1]
    if state is None:
        state = (x.new_zeros(N, H), x.new_zeros(N, H))
    outputs = []
    for x_t in x.unbind(1):
        state = lstm_cell_fused(x_t, *state, W, V, b)
        outputs.append(state[0])
    return torch.stack(outputs, 1), tuple(state)
''',
        "gates_from_torch": '''def gates_from_torch(lstm):
    H = lstm.hidden_size
    blocks = zip(lstm.weight_ih_l0.detach().split(H), lstm.weight_hh_l0.detach().split(H),
                 (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().split(H))
    p = {}
    for gate, (W, V, b) in zip(("i", "f", "g", "o"), blocks):
        p.update({f"W_{gate}": W, f"V_{gate}": V, f"b_{gate}": b})
    return p
''',
        "gates_to_torch": '''def gates_to_torch(p, lstm):
    state = {
        "weight_ih_l0": torch.cat([p["W_i"], p["W_f"], p["W_g"], p["W_o"]]),
        "weight_hh_l0": torch.cat([p["V_i"], p["V_f"], p["V_g"], p["V_o"]]),
        "bias_ih_l0": torch.cat([p["b_i"], p["b_f"], p["b_g"], p["b_o"]]),
        "bias_hh_l0": torch.zeros_like(lstm.bias_hh_l0),
    }
    lstm.load_state_dict(state)
    return lstm
''',
    },
}

GRU_04 = {
    "explicit": {
        "gru_gates": '''def gru_gates(x_t, h_prev, p):
    a_r = torch.matmul(x_t, p["W_r"].T) + torch.matmul(h_prev, p["V_r"].T) + p["b_r"]
    a_z = torch.matmul(x_t, p["W_z"].T) + torch.matmul(h_prev, p["V_z"].T) + p["b_z"]
    return 1 / (1 + torch.exp(-a_r)), 1 / (1 + torch.exp(-a_z))
''',
        "gru_cell_cho": '''def gru_cell_cho(x_t, h_prev, p):
    r_t, z_t = gru_gates(x_t, h_prev, p)
    reset = r_t * h_prev
    n_t = torch.tanh(torch.einsum("nd,hd->nh", x_t, p["W_n"]) + torch.einsum("nk,hk->nh", reset, p["V_n"])
                     + p["b_n"])
    return n_t + z_t * (h_prev - n_t)
''',
        "relabel_update_gate": '''def relabel_update_gate(p):
    q = {}
    for name, value in p.items():
        q[name] = value * -1 if name.endswith("_z") else value
    return q
''',
        "gru_cell_torch": '''def gru_cell_torch(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x_t @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r_t = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z_t = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n_t = torch.tanh(gi[:, 2 * H:] + r_t * gh[:, 2 * H:])
    return n_t + z_t * (h_prev - n_t)
''',
        "gru_layer": '''def gru_layer(x, state, W_ih, W_hh, b_ih, b_hh):
    N, T, _ = x.shape
    h_0 = x.new_zeros(N, W_hh.shape[1]) if state is None else state
    outputs = torch.zeros(N, T, W_hh.shape[1], dtype=x.dtype, device=x.device)
    h_t = h_0
    for t in range(T):
        h_t = gru_cell_torch(x[:, t], h_t, W_ih, W_hh, b_ih, b_hh)
        outputs[:, t] = h_t
    return outputs, h_t
''',
        "gates_from_torch": '''def gates_from_torch(gru):
    H = gru.hidden_size
    p = {}
    for k, gate in enumerate("rzn"):
        rows = range(k * H, (k + 1) * H)
        p["W_" + gate] = gru.weight_ih_l0.detach()[list(rows)]
        p["V_" + gate] = gru.weight_hh_l0.detach()[list(rows)]
        p["b_" + gate] = (gru.bias_ih_l0.detach() + gru.bias_hh_l0.detach())[list(rows)]
    return p
''',
    },
    "compact": {
        "gru_gates": '''def gru_gates(x_t, h_prev, p):
    F = torch.nn.functional
    return [torch.sigmoid(F.linear(x_t, p[f"W_{g}"], p[f"b_{g}"]) + F.linear(h_prev, p[f"V_{g}"])) for g in "rz"]
''',
        "gru_cell_cho": '''def gru_cell_cho(x_t, h_prev, p):
    r_t, z_t = gru_gates(x_t, h_prev, p)
    n_t = torch.tanh(torch.addmm(p["b_n"], x_t, p["W_n"].T) + (r_t * h_prev) @ p["V_n"].T)
    return torch.lerp(n_t, h_prev, z_t)
''',
        "relabel_update_gate": '''def relabel_update_gate(p):
    return {**p, **{k: -p[k] for k in ("W_z", "V_z", "b_z")}}
''',
        "gru_cell_torch": '''def gru_cell_torch(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    F = torch.nn.functional
    a_r, a_z, a_n = F.linear(x_t, W_ih, b_ih).split(h_prev.shape[-1], dim=-1)
    u_r, u_z, u_n = F.linear(h_prev, W_hh, b_hh).split(h_prev.shape[-1], dim=-1)
    r_t, z_t = torch.sigmoid(a_r + u_r), torch.sigmoid(a_z + u_z)
    n_t = torch.tanh(torch.addcmul(a_n, r_t, u_n))
    return torch.lerp(n_t, h_prev, z_t)
''',
        "gru_layer": '''def gru_layer(x, state, W_ih, W_hh, b_ih, b_hh):
    N, T, _ = x.shape
    h_t = x.new_zeros(N, W_hh.shape[1]) if state is None else state
    outputs = []
    for x_t in torch.unbind(x, dim=1):
        h_t = gru_cell_torch(x_t, h_t, W_ih, W_hh, b_ih, b_hh)
        outputs += [h_t]
    return [torch.stack(outputs, 1), h_t]
''',
        "gates_from_torch": '''def gates_from_torch(gru):
    H = gru.hidden_size
    W, V, b = gru.weight_ih_l0.detach(), gru.weight_hh_l0.detach(), (gru.bias_ih_l0 + gru.bias_hh_l0).detach()
    return {f"{kind}_{gate}": M[k * H:(k + 1) * H] for k, gate in enumerate("rzn")
            for kind, M in (("W", W), ("V", V), ("b", b))}
''',
    },
}

_LAYER_05 = '''
def lstm_layer(x, state, W, V, b):
    N, T, _ = x.shape
    H = V.shape[1]
    if state is None:
        state = (x.new_zeros(N, H), x.new_zeros(N, H))
'''

_CLASSIFIER_INIT = '''    def __init__(self, vocab_size, embed_dim, hidden_size, n_classes):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.forward_lstm = LSTM(embed_dim, hidden_size)
        self.backward_lstm = LSTM(embed_dim, hidden_size)
        self.out = nn.Linear(2 * hidden_size, n_classes)
'''  # given by the notebook

BILSTM_05 = {
    "explicit": {
        "lstm_layer": '''def lstm_cell_fused(x_t, h_prev, c_prev, W, V, b):
    H = h_prev.shape[1]
    a = x_t @ W.T + h_prev @ V.T + b
    i_t, f_t = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
    g_t, o_t = torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
    c_t = f_t * c_prev + i_t * g_t
    return o_t * torch.tanh(c_t), c_t
''' + _LAYER_05 + '''    h_t, c_t = state
    outputs = []
    for t in range(T):
        h_t, c_t = lstm_cell_fused(x[:, t, :], h_t, c_t, W, V, b)
        outputs.append(h_t)
    return torch.stack(outputs, dim=1), (h_t, c_t)
''',
        "reverse_time": '''def reverse_time(x, lengths):
    T = x.shape[1]
    if lengths is None:
        index = torch.arange(T - 1, -1, -1, device=x.device)
        return x[:, index]
    rows = []
    for i in range(x.shape[0]):
        L = int(lengths[i])
        order = list(range(L - 1, -1, -1)) + list(range(L, T))
        rows.append(x[i, order])
    return torch.stack(rows)
''',
        "bidirectional": '''def bidirectional(x, lengths, forward, backward):
    out_f = forward(x)[0]
    out_b = reverse_time(backward(reverse_time(x, lengths))[0], lengths)
    out = torch.cat((out_f, out_b), dim=2)
    if lengths is None:
        return out
    T = x.shape[1]
    keep = torch.zeros(x.shape[0], T, 1, dtype=out.dtype, device=out.device)
    for i, L in enumerate(lengths.tolist()):
        keep[i, :L] = 1
    return out * keep
''',
        "summary": '''def summary(outputs, lengths):
    H = outputs.shape[-1] // 2
    rows = []
    for i, L in enumerate(lengths.tolist()):
        rows.append(torch.cat([outputs[i, L - 1, :H], outputs[i, 0, H:]]))
    return torch.stack(rows)
''',
        "classifier": '''class BiLSTMClassifier(nn.Module):
''' + _CLASSIFIER_INIT + '''
    def forward(self, ids, lengths):
        e = self.embed(ids)
        both = bidirectional(e, lengths, self.forward_lstm, self.backward_lstm)
        logits = self.out(summary(both, lengths))
        return torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
''',
    },
    "compact": {
        "lstm_layer": '''def lstm_cell_fused(x_t, h_prev, c_prev, W, V, b):
    i, f, g, o = torch.addmm(b, x_t, W.T).addmm(h_prev, V.T).split(h_prev.shape[-1], dim=-1)
    c_t = torch.addcmul(f.sigmoid() * c_prev, i.sigmoid(), g.tanh())
    return o.sigmoid() * c_t.tanh(), c_t
''' + _LAYER_05 + '''    outputs = []
    for x_t in x.unbind(1):
        state = lstm_cell_fused(x_t, *state, W, V, b)
        outputs.append(state[0])
    return torch.stack(outputs, 1), tuple(state)
''',
        "reverse_time": '''def reverse_time(x, lengths):
    N, T = x.shape[:2]
    L = torch.full((N,), T, device=x.device) if lengths is None else lengths.to(x.device)
    t = torch.arange(T, device=x.device).expand(N, T)
    index = torch.where(t < L[:, None], L[:, None] - 1 - t, t)
    return x.gather(1, index.view(N, T, *([1] * (x.dim() - 2))).expand_as(x))
''',
        "bidirectional": '''def bidirectional(x, lengths, forward, backward):
    (out_f, _), (out_b, _) = forward(x), backward(reverse_time(x, lengths))
    out = torch.cat([out_f, reverse_time(out_b, lengths)], -1)
    if lengths is not None:
        padding = torch.arange(x.shape[1]).to(x.device)[None, :, None] >= lengths.to(x.device)[:, None, None]
        out = out.masked_fill(padding, 0.0)
    return out
''',
        "summary": '''def summary(outputs, lengths):
    H = outputs.shape[-1] // 2
    idx = (lengths.to(outputs.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
    last = outputs.gather(1, idx).squeeze(1)
    return torch.cat((last[..., :H], outputs[:, 0, H:]), -1)
''',
        "classifier": '''class BiLSTMClassifier(nn.Module):
''' + _CLASSIFIER_INIT + '''
    def forward(self, ids, lengths):
        h = summary(bidirectional(self.embed(ids), lengths, self.forward_lstm, self.backward_lstm), lengths)
        return nn.functional.softmax(self.out(h), dim=-1)
''',
    },
}

_SIGNATURE_06 = '''    N, T, _ = x.shape
    H = V.shape[1]
    h_t, c_t = state if state is not None else (x.new_zeros(N, H), x.new_zeros(N, H))
'''

SPEED_06 = {
    "explicit": {
        "lstm_layer_fused": '''def lstm_layer_fused(x, state, W, V, b):
''' + _SIGNATURE_06 + '''    outputs = x.new_zeros(N, T, H)
    for t in range(T):
        a = torch.matmul(x[:, t], W.T) + torch.matmul(h_t, V.T) + b
        i_t, f_t = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
        g_t, o_t = torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
        c_t = f_t * c_t + i_t * g_t
        h_t = o_t * torch.tanh(c_t)
        outputs[:, t] = h_t
    return outputs, (h_t, c_t)
''',
        "lstm_step": '''def lstm_step(gx_t, h_prev, c_prev, V):
    H = h_prev.shape[1]
    a = gx_t + torch.einsum("nk,gk->ng", h_prev, V)
    i_t = torch.sigmoid(a[:, :H])
    f_t = torch.sigmoid(a[:, H:2 * H])
    g_t = torch.tanh(a[:, 2 * H:3 * H])
    o_t = torch.sigmoid(a[:, 3 * H:])
    c_t = f_t * c_prev
    c_t += i_t * g_t
    return o_t * torch.tanh(c_t), c_t
''',
        "lstm_layer_precomputed": '''def lstm_layer_precomputed(x, state, W, V, b, step=lstm_step):
''' + _SIGNATURE_06 + '''    gx = torch.einsum("ntd,gd->ntg", x, W) + b
    outputs = []
    for t in range(T):
        h_t, c_t = step(gx[:, t], h_t, c_t, V)
        outputs.append(h_t)
    return torch.stack(outputs, dim=1), (h_t, c_t)
''',
    },
    "compact": {
        "lstm_layer_fused": '''def lstm_layer_fused(x, state, W, V, b):
''' + _SIGNATURE_06 + '''    F = torch.nn.functional
    outputs = []
    for x_t in x.unbind(1):
        i, f, g, o = (F.linear(x_t, W, b) + F.linear(h_t, V)).split(H, dim=-1)
        c_t = torch.addcmul(f.sigmoid() * c_t, i.sigmoid(), g.tanh())
        h_t = o.sigmoid() * c_t.tanh()
        outputs.append(h_t)
    return torch.stack(outputs, 1), [h_t, c_t]
''',
        "lstm_step": '''def lstm_step(gx_t, h_prev, c_prev, V):
    i, f, g, o = torch.addmm(gx_t, h_prev, V.T).split(h_prev.shape[-1], dim=-1)
    c_t = torch.addcmul(f.sigmoid() * c_prev, i.sigmoid(), g.tanh())
    return [o.sigmoid() * c_t.tanh(), c_t]
''',
        "lstm_layer_precomputed": '''def lstm_layer_precomputed(x, state, W, V, b, step=lstm_step):
''' + _SIGNATURE_06 + '''    gx = torch.nn.functional.linear(x, W, b)
    outputs = []
    for gx_t in gx.unbind(1):
        h_t, c_t = step(gx_t, h_t, c_t, V)
        outputs.append(h_t)
    return torch.stack(outputs, 1), (h_t, c_t)
''',
    },
}

STYLES = {"01_rnn": RNN_01, "02_vanishing_gradients": GRADIENTS_02, "03_lstm": LSTM_03, "04_gru": GRU_04,
          "05_bilstm": BILSTM_05, "06_lstm_speed": SPEED_06}
