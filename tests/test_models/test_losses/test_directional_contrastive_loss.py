"""Directional Contrastive loss (Lai et al., CVPR 2021, Eq. 1-8)."""
import math
import os
import os.path as osp
import socket

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_weak.models.losses import (DirectionalContrastiveLoss,
                                      directional_contrastive_loss,
                                      pixel_contrastive_nll)
from mmseg_weak.testing.oracles import reference_dc_loss


def _oracle(feat1, feat2, logits1, logits2, negs, neg_labels, tau=0.1,
            gamma=0.75):
    """Literal dense evaluation of Eq. 6-8 with the authors' conventions
    (our re-statement): max shift over the positive and every negative,
    float masks, ``+1e-8`` guards, ``sum / (count + 1e-12)`` averaging,
    targets detached, negatives constant."""
    f1, f2 = F.normalize(feat1, dim=1), F.normalize(feat2, dim=1)
    n = F.normalize(negs.detach(), dim=1)
    conf1, y1 = F.softmax(logits1.detach(), 1).max(1)
    conf2, y2 = F.softmax(logits2.detach(), 1).max(1)

    def one_direction(anchor, target, y_anchor, conf_anchor, conf_target):
        pos = (anchor * target.detach()).sum(1, keepdim=True) / tau
        neg = anchor @ n.t() / tau
        neg_mask = (neg_labels[None, :] != y_anchor[:, None]).float()
        all_logits = torch.cat([pos, neg], 1)
        all_mask = torch.cat([torch.ones_like(pos), neg_mask], 1)
        shift = all_logits.max(1, keepdim=True)[0]
        down = (torch.exp(all_logits - shift) * all_mask).sum(1)
        ratio = torch.exp(pos - shift).squeeze(1) / (down + 1e-8)
        pos_mask = ((conf_target > gamma) &
                    (conf_anchor < conf_target)).float()
        loss = -torch.log(ratio + 1e-8)
        return (loss * pos_mask).sum() / (pos_mask.sum() + 1e-12)

    return one_direction(f1, f2, y1, conf1, conf2) + \
        one_direction(f2, f1, y2, conf2, conf1)


def _random_inputs(num=40, dim=8, classes=4, num_neg=37, seed=0,
                   logit_scale=3.0):
    g = torch.Generator().manual_seed(seed)
    feat1 = torch.randn(num, dim, generator=g)
    feat2 = feat1 + 0.8 * torch.randn(num, dim, generator=g)
    logits1 = logit_scale * torch.randn(num, classes, generator=g)
    logits2 = logit_scale * torch.randn(num, classes, generator=g)
    negs = torch.randn(num_neg, dim, generator=g)
    neg_labels = torch.randint(0, classes, (num_neg, ), generator=g)
    return feat1, feat2, logits1, logits2, negs, neg_labels


def _leaves(*tensors):
    return [t.clone().requires_grad_(True) for t in tensors]


def _directions(logits1, logits2, gamma=0.75):
    conf1 = F.softmax(logits1, 1).max(1)[0]
    conf2 = F.softmax(logits2, 1).max(1)[0]
    return ((conf2 > gamma) & (conf1 < conf2),
            (conf1 > gamma) & (conf2 < conf1))


def test_hand_checked_value():
    """Two negatives n0 = (1, 0) (label 1), n1 = (0, 1) (label 0);
    tau = 0.1."""
    feat1 = torch.tensor([[1., 0.], [0., 1.], [1., 0.], [1., 0.]])
    feat2 = torch.tensor([[0., 1.], [3., 4.], [1., 0.], [0., 1.]])
    logits1 = torch.tensor([[.1, 0, 0], [0, 5., 0], [5., 0, 0], [.1, 0, 0]])
    logits2 = torch.tensor([[5., 0, 0], [0, 0, .1], [5., 0, 0], [.5, 0, 0]])
    negs = torch.tensor([[1., 0.], [0., 1.]])
    neg_labels = torch.tensor([1, 0])
    # pixel 0: view 2 confident (0.987 > conf1, > 0.75): anchor (1, 0) with
    # label 0, p = 0; n0 kept (x = 10), n1 has the anchor's label (masked);
    # shift 10.
    r0 = math.exp(-10) / (math.exp(-10) + 1 + 1e-8)
    # pixel 1: view 1 confident: anchor (0.6, 0.8) with label 2, target
    # (0, 1): p = 8; x = 6 (n0) and 8 (n1), both kept; shift 8.
    r1 = 1 / (1 + math.exp(-2) + 1 + 1e-8)
    # pixel 2: equal confidences (no direction); pixel 3: conf2 = 0.45 < 0.75
    # (filtered).
    expected = -math.log(r0 + 1e-8) - math.log(r1 + 1e-8)
    loss = directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                        neg_labels)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # the eps-free formula of the paper agrees to the guards
    paper = math.log(1 + math.exp(10)) + math.log(2 + math.exp(-2))
    assert loss.item() == pytest.approx(paper, abs=1e-3)
    # without positive filtering pixel 3 joins direction 1 <- 2 (anchor
    # (1, 0), label 0, target (0, 1)): same terms as pixel 0, mean of two
    loss = directional_contrastive_loss(
        feat1, feat2, logits1, logits2, negs, neg_labels, pos_thresh=0.)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    feat2[3] = torch.tensor([1., 0.])  # now p = 10 for pixel 3
    r3 = 1 / (1 + 1 + 1e-8)
    loss = directional_contrastive_loss(
        feat1, feat2, logits1, logits2, negs, neg_labels, pos_thresh=0.)
    expected3 = (-math.log(r0 + 1e-8) - math.log(r3 + 1e-8)) / 2 - \
        math.log(r1 + 1e-8)
    assert loss.item() == pytest.approx(expected3, rel=1e-6)


@pytest.mark.parametrize('seed,gamma,num_neg,classes',
                         [(0, 0.75, 37, 4), (1, 0.5, 64, 3), (2, 0.0, 5, 2),
                          (3, 0.75, 0, 4), (4, 0.9, 23, 2)])
def test_matches_oracle_values_and_gradients(seed, gamma, num_neg, classes):
    inputs = _random_inputs(
        num_neg=num_neg, classes=classes, seed=seed, logit_scale=4.0)
    ours = _leaves(*inputs[:2])
    ref = _leaves(*inputs[:2])
    mask1, mask2 = _directions(inputs[2], inputs[3], gamma)
    assert mask1.any() and mask2.any()
    loss = directional_contrastive_loss(
        *ours, *inputs[2:], pos_thresh=gamma, chunk_size=3)
    expected = _oracle(*ref, *inputs[2:], gamma=gamma)
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-6)
    loss.backward()
    expected.backward()
    for mine, theirs in zip(ours, ref):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-5,
                                   atol=1e-7)


def test_loss_cap_and_temperature_match_oracle():
    """Positive far less similar than a kept negative: the ``+1e-8`` guard
    caps the per-pixel loss (-log 1e-8 = 18.42) as in the authors' code."""
    feat1 = torch.tensor([[1., 0.]], requires_grad=True)
    feat2 = torch.tensor([[-1., 0.]])
    logits1, logits2 = torch.tensor([[0., 0.]]), torch.tensor([[5., 0.]])
    negs, neg_labels = torch.tensor([[1., 0.]] * 3), torch.tensor([1, 1, 1])
    loss = directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                        neg_labels, temperature=0.05)
    ref1 = feat1.detach().clone().requires_grad_(True)
    expected = _oracle(ref1, feat2, logits1, logits2, negs, neg_labels,
                       tau=0.05)
    assert loss.item() == pytest.approx(-math.log(1e-8), rel=1e-4)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(feat1.grad, ref1.grad)


def test_masked_negatives_count_in_the_shift():
    """All negatives carry the anchor's label (all masked) and are far more
    similar than the positive: as in the authors' code the shift is their
    maximum (10), so the ``1e-8`` denominator guard is not negligible:
    r = e^-20 / (e^-20 + 1e-8)."""
    feat1 = torch.tensor([[1., 0.]], requires_grad=True)
    feat2 = torch.tensor([[-1., 0.]])
    logits1, logits2 = torch.tensor([[0., 0.]]), torch.tensor([[5., 0.]])
    negs, neg_labels = torch.tensor([[1., 0.]] * 2), torch.tensor([0, 0])
    loss = directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                        neg_labels)
    ratio = math.exp(-20) / (math.exp(-20) + 1e-8)
    assert loss.item() == pytest.approx(-math.log(ratio + 1e-8), rel=1e-4)
    ref1 = feat1.detach().clone().requires_grad_(True)
    expected = _oracle(ref1, feat2, logits1, logits2, negs, neg_labels)
    torch.testing.assert_close(loss, expected)


def test_gradient_reaches_only_the_less_confident_view():
    inputs = _random_inputs(num=60, seed=5, logit_scale=4.0)
    feat1, feat2, negs = _leaves(inputs[0], inputs[1], inputs[4])
    logits1, logits2 = _leaves(inputs[2], inputs[3])
    mask1, mask2 = _directions(inputs[2], inputs[3])
    assert mask1.sum() > 3 and mask2.sum() > 3
    loss = directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                        inputs[5])
    loss.backward()
    # a pixel of direction 1 <- 2 moves feat1 only, and vice versa
    assert torch.equal(feat1.grad.abs().sum(1) > 0, mask1)
    assert torch.equal(feat2.grad.abs().sum(1) > 0, mask2)
    # negatives and classifier logits are constants of the loss
    for const in (negs, logits1, logits2):
        assert const.grad is None or not const.grad.any()


def test_only_one_direction_leaves_the_target_without_gradient():
    feat1, feat2 = _leaves(*_random_inputs(num=10, seed=6)[:2])
    logits1 = torch.zeros(10, 3)  # conf 1/3
    logits2 = torch.tensor([[4., 0., 0.]]).repeat(10, 1)  # conf 0.96
    negs, neg_labels = torch.randn(7, 8), torch.arange(7) % 3
    loss = directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                        neg_labels)
    loss.backward()
    assert (feat1.grad.abs().sum(1) > 0).all()
    assert feat2.grad is None or not feat2.grad.any()


def test_no_anchor_gives_zero_with_graph():
    feat1, feat2 = _leaves(*_random_inputs(num=6, seed=7)[:2])
    logits = torch.zeros(6, 3)
    loss = directional_contrastive_loss(feat1, feat2, logits, logits,
                                        torch.randn(4, 8),
                                        torch.zeros(4, dtype=torch.long))
    assert loss.item() == 0
    loss.backward()
    assert not feat1.grad.any() and not feat2.grad.any()


@pytest.mark.parametrize('chunk_size', [1, 2, 7, 1000])
def test_chunked_equals_unchunked(chunk_size):
    inputs = _random_inputs(num=50, num_neg=90, classes=5, seed=8,
                            logit_scale=4.0)
    a, b = _leaves(*inputs[:2]), _leaves(*inputs[:2])
    whole = directional_contrastive_loss(*a, *inputs[2:], chunk_size=10**6)
    chunked = directional_contrastive_loss(
        *b, *inputs[2:], chunk_size=chunk_size)
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-6)
    whole.backward()
    chunked.backward()
    for x, y in zip(a, b):
        torch.testing.assert_close(y.grad, x.grad, rtol=1e-5, atol=1e-7)


def test_pixel_nll_matches_direct_formula():
    """``pixel_contrastive_nll`` alone: -log of the masked softmax of the
    positive (eps-free formula, tolerance of the guards)."""
    g = torch.Generator().manual_seed(9)
    anchors = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    targets = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    negs = F.normalize(torch.randn(9, 4, generator=g), dim=1)
    neg_labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2])
    nll = pixel_contrastive_nll(anchors, targets, labels, negs, neg_labels,
                                temperature=0.5, chunk_size=1)
    anchors.requires_grad_(True)
    targets.requires_grad_(True)
    nll = pixel_contrastive_nll(anchors, targets, labels, negs, neg_labels,
                                temperature=0.5)
    nll.sum().backward()
    assert anchors.grad.abs().sum(1).gt(0).all() and targets.grad is None
    for i in range(6):
        keep = neg_labels != labels[i]
        logits = torch.cat([(anchors[i] * targets[i]).sum().view(1),
                            negs[keep] @ anchors[i]]) / 0.5
        expected = -torch.log_softmax(logits, 0)[0]
        torch.testing.assert_close(nll[i], expected, rtol=1e-5, atol=1e-6)


def _step_negatives(step, pixels=10, dim=4):
    """Two groups of negatives whose features encode (step, group, row)."""
    feats, labels = [], []
    for group in range(2):
        rows = torch.arange(pixels, dtype=torch.float32)
        feat = torch.stack([
            torch.full((pixels, ), float(step + 1)),
            torch.full((pixels, ), float(group)), rows,
            torch.ones(pixels)
        ], 1)[:, :dim]
        feats.append(feat)
        labels.append((rows.long() + step) % 3)
    return feats, labels


def test_memory_bank_size_and_content_over_steps():
    loss_fn = MODELS.build(
        dict(
            type='DirectionalContrastiveLoss',
            num_negatives=3,
            memory_bank_size=2,
            loss_weight=0.5))
    assert isinstance(loss_fn, DirectionalContrastiveLoss)
    assert loss_fn.loss_name == 'loss_dc'
    feat1, feat2, logits1, logits2 = _random_inputs(dim=4, classes=3)[:4]
    for step in range(5):
        feats, labels = _step_negatives(step)
        loss = loss_fn(feat1, feat2, logits1, logits2, feats, labels)
        bank = loss_fn.memory_bank
        assert len(bank) == min(step + 1, 3)
        # FIFO: the oldest kept step first, the current one last
        kept = list(range(max(0, step - 2), step + 1))
        for (bank_feat, bank_label), s in zip(bank, kept):
            assert bank_feat.shape == (6, 4) and bank_label.shape == (6, )
            assert not bank_feat.requires_grad
            raw = bank_feat / bank_feat[:, 3:4]  # undo the normalisation
            torch.testing.assert_close(
                bank_feat.norm(dim=1), torch.ones(6))
            assert torch.allclose(raw[:, 0], torch.full((6, ), s + 1.))
            # num_negatives of each group, without replacement
            assert raw[:, 1].round().tolist() == [0.] * 3 + [1.] * 3
            rows = raw[:, 2].round().long()
            assert len(set(rows[:3].tolist())) == 3
            assert len(set(rows[3:].tolist())) == 3
            assert torch.equal(bank_label, (rows + s) % 3)
        # the loss uses the whole bank as negatives
        expected = directional_contrastive_loss(
            feat1, feat2, logits1, logits2,
            torch.cat([f for f, _ in bank]), torch.cat([lab
                                                        for _, lab in bank]))
        torch.testing.assert_close(loss, 0.5 * expected)
    assert not any('bank' in key for key in loss_fn.state_dict())
    loss_fn.reset_memory_bank()
    assert loss_fn.memory_bank == []


def test_memory_bank_size_zero_and_no_sampling():
    loss_fn = DirectionalContrastiveLoss(num_negatives=None,
                                         memory_bank_size=0)
    feat1, feat2, logits1, logits2 = _random_inputs(dim=4, classes=3)[:4]
    for step in range(2):
        feats, labels = _step_negatives(step)
        loss_fn(feat1, feat2, logits1, logits2, feats, labels)
        [(bank_feat, bank_label)] = loss_fn.memory_bank
        torch.testing.assert_close(
            bank_feat, F.normalize(torch.cat(feats), dim=1))
        assert torch.equal(bank_label, torch.cat(labels))


def test_bad_inputs_raise_clear_errors():
    feat1, feat2, logits1, logits2, negs, neg_labels = _random_inputs()
    with pytest.raises(ValueError, match='feat1'):
        directional_contrastive_loss(feat1, feat2[:-1], logits1, logits2,
                                     negs, neg_labels)
    with pytest.raises(ValueError, match='logits1'):
        directional_contrastive_loss(feat1, feat2, logits1[:, :2], logits2,
                                     negs, neg_labels)
    with pytest.raises(ValueError, match='neg_feats'):
        directional_contrastive_loss(feat1, feat2, logits1, logits2,
                                     negs[:, :3], neg_labels)
    with pytest.raises(ValueError, match='integer'):
        directional_contrastive_loss(feat1, feat2, logits1, logits2, negs,
                                     neg_labels.float())
    loss_fn = DirectionalContrastiveLoss(num_negatives=50)
    with pytest.raises(ValueError, match='fewer than num_negatives=50'):
        loss_fn(feat1, feat2, logits1, logits2, negs, neg_labels)
    with pytest.raises(ValueError, match='groups'):
        loss_fn(feat1, feat2, logits1, logits2, [negs, negs], [neg_labels])
    with pytest.raises(ValueError, match='temperature'):
        DirectionalContrastiveLoss(temperature=0)


# --------------------------------------------------------------------------
# 1 process vs 2 gloo processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _global_inputs(world_size=2, per_rank=12, dim=6, classes=3, pixels=9):
    """Per rank: overlap features/logits with 4 anchors of direction 1 <- 2
    and 4 of direction 2 <- 1 on every rank (equal counts, so that the mean
    of the per-rank losses is the single-process loss), and two groups of
    ``pixels`` negatives per step (2 steps)."""
    g = torch.Generator().manual_seed(11)
    ranks = []
    for _ in range(world_size):
        label = torch.randint(0, classes, (per_rank, ), generator=g)
        confident = 6 * F.one_hot(label, classes).float()
        unsure = 0.1 * torch.randn(per_rank, classes, generator=g)
        logits1, logits2 = unsure.clone(), unsure.clone()
        logits2[:4] += confident[:4]  # 1 <- 2
        logits1[4:8] += confident[4:8]  # 2 <- 1
        logits1[8:] += 0.2 * confident[8:]  # filtered (conf < 0.75)
        steps = [([torch.randn(pixels, dim, generator=g) for _ in range(2)],
                  [torch.randint(0, classes, (pixels, ), generator=g)
                   for _ in range(2)]) for _ in range(2)]
        ranks.append(
            dict(
                feat1=torch.randn(per_rank, dim, generator=g),
                feat2=torch.randn(per_rank, dim, generator=g),
                logits1=logits1,
                logits2=logits2,
                steps=steps))
    return ranks


def _run_steps(loss_fn, data):
    """Two steps; returns the losses, the gradients of the last step and the
    memory bank."""
    losses = []
    for feats, labels in data['steps']:
        feat1, feat2 = _leaves(data['feat1'], data['feat2'])
        loss = loss_fn(feat1, feat2, data['logits1'], data['logits2'], feats,
                       labels)
        loss.backward()
        losses.append(loss.detach())
    return dict(
        losses=torch.stack(losses),
        grad1=feat1.grad,
        grad2=feat2.grad,
        bank=loss_fn.memory_bank)


def _ddp_worker(rank, world_size, port, data_path, out_dir):
    from mmseg_weak.utils import cleanup_distributed
    from mmseg_weak.utils.dist_utils import init_cpu_process_group
    torch.set_num_threads(1)
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))
    init_cpu_process_group('pytorch', timeout=120)
    data = torch.load(data_path)
    full = _run_steps(
        DirectionalContrastiveLoss(num_negatives=None, memory_bank_size=1),
        data[rank])
    torch.manual_seed(rank)  # different sampling on every rank
    sampled = _run_steps(
        DirectionalContrastiveLoss(num_negatives=4, memory_bank_size=1),
        data[rank])
    torch.save(dict(full=full, sampled_bank=sampled['bank']),
               osp.join(out_dir, f'rank{rank}.pt'))
    cleanup_distributed()


def test_same_loss_under_one_and_two_processes(tmp_path):
    world_size = 2
    data = _global_inputs(world_size)
    data_path = str(tmp_path / 'inputs.pt')
    torch.save(data, data_path)
    mp.spawn(
        _ddp_worker,
        args=(world_size, _free_port(), data_path, str(tmp_path)),
        nprocs=world_size,
        join=True)
    results = [
        torch.load(str(tmp_path / f'rank{r}.pt')) for r in range(world_size)
    ]

    # one process with the global inputs: all anchors, all negatives
    merged = dict(
        feat1=torch.cat([d['feat1'] for d in data]),
        feat2=torch.cat([d['feat2'] for d in data]),
        logits1=torch.cat([d['logits1'] for d in data]),
        logits2=torch.cat([d['logits2'] for d in data]),
        steps=[([g for d in data for g in d['steps'][s][0]],
                [g for d in data for g in d['steps'][s][1]])
               for s in range(2)])
    single = _run_steps(
        DirectionalContrastiveLoss(num_negatives=None, memory_bank_size=1),
        merged)

    per_rank = data[0]['feat1'].shape[0]
    rank_losses = torch.stack([r['full']['losses'] for r in results])
    torch.testing.assert_close(rank_losses.mean(0), single['losses'])
    for rank, res in enumerate(results):
        full = res['full']
        rows = slice(rank * per_rank, (rank + 1) * per_rank)
        # DDP averages gradients over ranks: world_size * d(mean)/d(input)
        torch.testing.assert_close(full['grad1'] / world_size,
                                   single['grad1'][rows])
        torch.testing.assert_close(full['grad2'] / world_size,
                                   single['grad2'][rows])
        # gathered negatives in rank order; bank = previous + current step
        for (f, lab), (sf, slab) in zip(full['bank'], single['bank']):
            torch.testing.assert_close(f, sf)
            assert torch.equal(lab, slab)
        # every rank's loss is its own anchors against the global negatives
        bank_f = torch.cat([f for f, _ in full['bank']])
        bank_l = torch.cat([lab for _, lab in full['bank']])
        expected = directional_contrastive_loss(
            data[rank]['feat1'], data[rank]['feat2'], data[rank]['logits1'],
            data[rank]['logits2'], bank_f, bank_l)
        torch.testing.assert_close(full['losses'][-1], expected)

    # sampled negatives: 2 groups x 4 per rank, gathered: 16 per step, the
    # same on both ranks although each rank sampled its own
    bank0, bank1 = (r['sampled_bank'] for r in results)
    assert [f.shape[0] for f, _ in bank0] == [16, 16]
    for (f0, l0), (f1, l1) in zip(bank0, bank1):
        torch.testing.assert_close(f0, f1)
        assert torch.equal(l0, l1)


# --------------------------------------------------------------------------
# the benchmark's re-implementation of the authors' computation


def test_benchmark_reference_implementation_matches():
    """The chunked, checkpointed re-implementation of the authors' code used
    by tools/analysis_tools/benchmark_dc_loss.py agrees with the dense
    oracle (one chunk) and with ours (several chunks)."""
    inputs = _random_inputs(num=30, num_neg=40, classes=3, seed=12,
                            logit_scale=4.0)
    runs = []
    for fn in (lambda *x: reference_dc_loss(*x, chunk=40),
               lambda *x: reference_dc_loss(*x, chunk=7),
               lambda *x: _oracle(*x),
               lambda *x: directional_contrastive_loss(*x)):
        leaves = _leaves(*inputs[:2])
        loss = fn(*leaves, *inputs[2:])
        loss.backward()
        runs.append((loss.detach(), leaves[0].grad, leaves[1].grad))
    for run in runs[1:]:
        for x, y in zip(run, runs[0]):
            torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
