"""Example 1: neural-network training, where does the CPU go?

A small multi-layer perceptron (8 inputs, 32 hidden ReLU units, 4 softmax outputs)
trained by hand with stochastic gradient descent on a synthetic, seeded data set,
in plain Python lists: no framework hides the arithmetic, so the profile shows it.
Each epoch trains on 300 samples and then evaluates on 600 held-out ones, as a
real training loop does.

    python3 examples/nn_training.py [EPOCHS]

prints the training loss and held-out accuracy every 10 epochs. Under the agent, `pyagent report` shows
which function and which line the training spends its CPU in.
"""
import math
import random
import sys

INPUTS, HIDDEN, CLASSES = 8, 32, 4


def make_data(rng, n):
    """Points around four seeded centres; the label is the nearest centre."""
    centres = [[rng.uniform(-1, 1) for _ in range(INPUTS)] for _ in range(CLASSES)]
    data = []
    for _ in range(n):
        label = rng.randrange(CLASSES)
        x = [c + rng.gauss(0, 0.6) for c in centres[label]]
        data.append((x, label))
    return data


def init_layer(rng, n_in, n_out):
    scale = math.sqrt(2.0 / n_in)
    weights = [[rng.gauss(0, scale) for _ in range(n_in)] for _ in range(n_out)]
    return weights, [0.0] * n_out


def matvec(weights, vec, bias):
    """One dense layer: weights (rows) times vec, plus bias."""
    out = []
    for row, b in zip(weights, bias):
        acc = b
        for w, v in zip(row, vec):
            acc += w * v
        out.append(acc)
    return out


def relu(vec):
    return [v if v > 0.0 else 0.0 for v in vec]


def softmax(vec):
    top = max(vec)
    exps = [math.exp(v - top) for v in vec]
    total = sum(exps)
    return [e / total for e in exps]


def forward(net, x):
    (w1, b1), (w2, b2) = net
    hidden = relu(matvec(w1, x, b1))
    return hidden, softmax(matvec(w2, hidden, b2))


def backward(net, x, hidden, probs, label, lr):
    """Cross-entropy gradient through both layers, applied at once (plain SGD)."""
    (w1, b1), (w2, b2) = net
    d_out = list(probs)
    d_out[label] -= 1.0
    d_hidden = [0.0] * HIDDEN
    for k, row in enumerate(w2):
        g = d_out[k]
        for j in range(HIDDEN):
            d_hidden[j] += row[j] * g
            row[j] -= lr * g * hidden[j]
        b2[k] -= lr * g
    for j, row in enumerate(w1):
        if hidden[j] <= 0.0:
            continue  # ReLU: no gradient through an inactive unit
        g = d_hidden[j]
        for i in range(INPUTS):
            row[i] -= lr * g * x[i]
        b1[j] -= lr * g


def train_epoch(net, data, lr):
    loss = 0.0
    for x, label in data:
        hidden, probs = forward(net, x)
        loss -= math.log(max(probs[label], 1e-12))
        backward(net, x, hidden, probs, label, lr)
    return loss / len(data)


def evaluate(net, data):
    right = 0
    for x, label in data:
        _, probs = forward(net, x)
        right += probs.index(max(probs)) == label
    return right / len(data)


def main(epochs):
    rng = random.Random(2024)
    data = make_data(rng, 900)
    train, held_out = data[:300], data[300:]
    net = [init_layer(rng, INPUTS, HIDDEN), init_layer(rng, HIDDEN, CLASSES)]
    for epoch in range(1, epochs + 1):
        loss = train_epoch(net, train, lr=0.02)
        accuracy = evaluate(net, held_out)
        if epoch % 10 == 0 or epoch == epochs:
            print("epoch %d loss %.4f accuracy %.3f" % (epoch, loss, accuracy))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
