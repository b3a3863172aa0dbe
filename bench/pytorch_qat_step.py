#!/usr/bin/python3
"""The QAT training step of `qseg train` in PyTorch eager mode, for comparison (not a test).

Same model as qseg's import of the float dm0.5 DeepLab (folded: conv + bias, output stride 16,
published head), same step: fake quantization of weights (per tensor, min/max, 8 bits narrow range)
and activations (per tensor, moving-average ranges) with straight-through gradients, logits
upsampled to the crop (bilinear, corners aligned), softmax cross entropy ignoring 255, SGD with
momentum 0.9 and L2 weight decay 4e-5. Fake quantization is PyTorch's own fused operator
(torch.fake_quantize_per_tensor_affine, as torch.ao.quantization's FakeQuantize uses; it rounds
half to even where TensorFlow rounds half up), or with --tf-rounding TensorFlow's formula composed
of PyTorch operators. Random inputs and labels (the data pipeline is not measured). Prints
images/s over the timed steps.

Usage: /usr/bin/python3 bench/pytorch_qat_step.py [--threads 2] [--batch 8] [--crop 513]
       [--steps 3] [--warmup 1] [--float] [--channels-last] [--tf-rounding] [--profile]
(Debian's python3-torch 1.13, the same libtorch build qseg links.)
"""
import argparse
import time

import torch
import torch.nn.functional as F

BLOCKS = [(1, 16), (2, 24), (1, 24), (2, 32), (1, 32), (1, 32), (2, 64), (1, 64), (1, 64), (1, 64),
          (1, 96), (1, 96), (1, 96), (2, 160), (1, 160), (1, 160), (1, 320)]


class FakeQuant(torch.autograd.Function):
    """TensorFlow's FakeQuantWithMinMaxVars: floor((clamp(x) - nmin) / scale + 0.5) * scale + nmin."""

    @staticmethod
    def forward(ctx, x, lo, hi, scale):
        ctx.save_for_backward((x >= lo) & (x <= hi))
        return torch.floor((x.clamp(lo, hi) - lo) * (1.0 / scale) + 0.5) * scale + lo

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None, None


TF_ROUNDING = False


def grid(lo, hi, qmin, qmax):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / (qmax - qmin) if hi > lo else 1.0
    zp = min(max(round(qmin - lo / scale), qmin), qmax)
    return scale, zp


def fake_quant(x, lo, hi, qmin, qmax):
    scale, zp = grid(lo, hi, qmin, qmax)
    if TF_ROUNDING:
        return FakeQuant.apply(x, (qmin - zp) * scale, (qmax - zp) * scale, scale)
    return torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax)


class Range:
    def __init__(self):
        self.lo = self.hi = None

    def __call__(self, x, quantize, decay=0.999):
        with torch.no_grad():
            lo, hi = (v.item() for v in torch.aminmax(x))
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            self.lo -= (self.lo - lo) * (1 - decay)
            self.hi -= (self.hi - hi) * (1 - decay)
        if not quantize:
            return x
        return fake_quant(x, self.lo, self.hi, 0, 255)


class Conv(torch.nn.Module):
    def __init__(self, cin, cout, k=1, stride=1, dilation=1, groups=1, act=None):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, k, stride, 0, dilation, groups, bias=True)
        self.k, self.stride, self.dilation, self.act = k, stride, dilation, act
        self.range = Range()

    def forward(self, x, q):
        w = self.conv.weight
        if q:
            with torch.no_grad():
                lo, hi = (v.item() for v in torch.aminmax(w))
            w = fake_quant(w, lo, hi, 1, 255)
        pads = []
        for size in (x.shape[3], x.shape[2]):  # TensorFlow SAME padding, bottom/right get more
            out = (size + self.stride - 1) // self.stride
            total = max((out - 1) * self.stride + self.dilation * (self.k - 1) + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        if pads[0] == pads[1] and pads[2] == pads[3]:
            y = F.conv2d(x, w, self.conv.bias, self.stride, (pads[2], pads[0]), self.dilation, self.conv.groups)
        else:
            y = F.conv2d(F.pad(x, pads), w, self.conv.bias, self.stride, 0, self.dilation, self.conv.groups)
        if self.act == 'relu6':
            y = y.clamp(0, 6)
        elif self.act == 'relu':
            y = F.relu(y)
        return self.range(y, q)


class DeepLab(torch.nn.Module):
    def __init__(self, dm=0.5, output_stride=16, classes=21):
        super().__init__()
        ch = lambda c: max(1, int(c * dm + 0.5))
        stride, rate = 1, 1
        layers = []

        def next_stride(s):
            nonlocal stride, rate
            if stride == output_stride:
                r = rate
                rate *= s
                return 1, r
            stride *= s
            return s, 1

        s, r = next_stride(2)
        self.stem = Conv(3, ch(32), 3, s, r, act='relu6')
        cin = ch(32)
        self.blocks = torch.nn.ModuleList()
        for i, (bs, c) in enumerate(BLOCKS):
            s, r = next_stride(bs)
            cout = ch(c)
            inner = cin if i == 0 else ((cin * 6 + 4) // 8) * 8
            mods = torch.nn.ModuleList()
            if i > 0:
                mods.append(Conv(cin, inner, act='relu6'))
            mods.append(Conv(inner, inner, 3, s, r, groups=inner, act='relu6'))
            mods.append(Conv(inner, cout))
            mods.residual = s == 1 and cin == cout
            mods.add_range = Range()
            self.blocks.append(mods)
            cin = cout
        self.pool = Conv(cin, 256, act='relu')
        self.aspp0 = Conv(cin, 256, act='relu')
        self.concat_range = Range()
        self.projection = Conv(512, 256, act='relu')
        self.logits = Conv(256, classes)

    def forward(self, x, q):
        x = self.stem(x, q)
        for mods in self.blocks:
            y = x
            for m in mods:
                y = m(y, q)
            x = mods.add_range(x + y, q) if mods.residual else y
        h, w = x.shape[2], x.shape[3]
        pooled = self.pool(x.mean((2, 3), keepdim=True), q).expand(-1, -1, h, w)
        y = self.concat_range(torch.cat([pooled, self.aspp0(x, q)], 1), q)
        y = F.dropout(self.projection(y, q), 0.1, self.training)
        return self.logits(y, q)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--crop', type=int, default=513)
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--float', action='store_true', help='float training (no fake quantization)')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--tf-rounding', action='store_true', help="TensorFlow's rounding, composed of PyTorch ops")
    p.add_argument('--profile', action='store_true')
    a = p.parse_args()
    global TF_ROUNDING
    TF_ROUNDING = a.tf_rounding
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = DeepLab()
    model.train()
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    params = list(model.parameters())
    decay = [p.dim() == 4 and p.shape[1] > 1 for p in params]
    momentum = [torch.zeros_like(p) for p in params]
    x = (torch.rand(a.batch, 3, a.crop, a.crop) * 2 - 1).contiguous(memory_format=fmt)
    labels = torch.randint(0, 21, (a.batch, a.crop, a.crop))
    q = not a.float

    def step():
        logits = F.interpolate(model(x, q), size=(a.crop, a.crop), mode='bilinear', align_corners=True)
        loss = F.cross_entropy(logits, labels, ignore_index=255)
        for p_ in params:
            p_.grad = None
        loss.backward()
        with torch.no_grad():
            for p_, m, d in zip(params, momentum, decay):
                g = p_.grad + 4e-5 * p_ if d else p_.grad
                m.mul_(0.9).add_(g)
                p_.add_(m, alpha=-3e-5)
        return loss.item()

    for _ in range(a.warmup):
        step()
    if a.profile:
        with torch.autograd.profiler.profile() as prof:
            step()
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))
    start = time.time()
    for _ in range(a.steps):
        step()
    seconds = (time.time() - start) / a.steps
    print(f'pytorch eager {"float" if a.float else "QAT"}: batch {a.batch}, crop {a.crop}, {a.threads} threads, '
          f'{"channels_last" if a.channels_last else "NCHW"}{", TF rounding" if a.tf_rounding else ""}: '
          f'{seconds:.2f} s/step, {a.batch / seconds:.3f} images/s')


if __name__ == '__main__':
    main()
