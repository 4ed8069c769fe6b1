import keras
import numpy as np
import pytest
from keras import ops

from utils.models import attention
from utils.tasks import seq2seq
from utils.data.tokens import END, PAD, START, TokenVocab


def _pairs(n=50, seed=0):
    rng = np.random.default_rng(seed)
    sources = ["".join(rng.choice(list("abc"), size=rng.integers(1, 12))) for _ in range(n)]
    targets = [s.upper() * 2 for s in sources]
    return sources, targets, TokenVocab(sources), TokenVocab(targets)


def test_encode_pairs_reverses_the_source_only_when_asked():
    sources, targets, sv, tv = _pairs(3)
    forward, target_ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    backward, _ = seq2seq.encode_pairs(sources, targets, sv, tv, reverse_source=True)
    assert sv.decode(forward[0]) == sources[0] and sv.decode(backward[0]) == sources[0][::-1]
    assert target_ids[0][-1] == END and tv.decode(target_ids[0]) == targets[0]
    with pytest.raises(ValueError, match="one target per source"):
        seq2seq.encode_pairs(sources, targets[:2], sv, tv)


@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_hold_every_pair_once_with_teacher_forcing_and_weights(shuffle):
    sources, targets, sv, tv = _pairs()
    source_ids, target_ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    batches = seq2seq.PairBatches(source_ids, target_ids, 8, n_buckets=3, shuffle=shuffle)
    seen = []
    for i in range(len(batches)):
        (source, decoder_input), decoder_target, weights = batches[i]
        assert source.shape[0] == decoder_input.shape[0] == 8 and decoder_input.shape == decoder_target.shape
        assert source.shape[1] in batches.edges
        np.testing.assert_array_equal(weights, decoder_target != PAD)
        for row in range(8):
            if weights[row].sum() == 0:  # an empty row that completes a partial batch
                assert (source[row] == PAD).all()
                continue
            seen.append(sv.decode(source[row]))
            assert source[row, -1] != PAD  # padded on the left: the last step reads a real character
            assert decoder_input[row, 0] == START
            n = int(weights[row].sum())
            np.testing.assert_array_equal(decoder_input[row, 1:n], decoder_target[row, :n - 1])
            assert decoder_target[row, n - 1] == END
    assert sorted(seen) == sorted(sources)
    batches.on_epoch_end()
    assert sum(int((batches[i][2].sum(axis=1) > 0).sum()) for i in range(len(batches))) == len(sources)


def test_the_first_two_batches_show_which_lengths_vary():
    sources, targets, sv, tv = _pairs(80, seed=3)
    source_ids, target_ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    batches = seq2seq.PairBatches(source_ids, target_ids, 4, n_buckets=4, seed=1)
    for _ in range(3):
        (s0, d0), _, _ = batches[0]
        (s1, d1), _, _ = batches[1]
        assert s0.shape[1] != s1.shape[1] and d0.shape[1] != d1.shape[1]
        assert d0.shape[1] == min(batches.target_length.values())
        batches.on_epoch_end()


def test_validation_batches_share_the_training_buckets():
    sources, targets, sv, tv = _pairs()
    source_ids, target_ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    train = seq2seq.PairBatches(source_ids, target_ids, 8)
    validation = seq2seq.PairBatches(source_ids[:10], target_ids[:10], 8, edges=train.edges, shuffle=False)
    assert {validation[i][0][0].shape[1] for i in range(len(validation))} <= set(train.edges.tolist())
    one_bucket = seq2seq.PairBatches(source_ids, target_ids, 8, edges=np.array([3]))
    assert one_bucket.edges.tolist() == [max(len(s) for s in source_ids)]  # the last bucket takes longer sources


def test_bad_batch_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        seq2seq.PairBatches([np.array([3])], [np.array([3, END])], 0)
    with pytest.raises(ValueError, match="as many targets"):
        seq2seq.PairBatches([np.array([3])], [], 2)


def test_repeat_over_time_and_log_softmax():
    c = np.arange(6.0, dtype="float32").reshape(2, 3)
    like = np.zeros((2, 5, 7), dtype="float32")
    repeated = ops.convert_to_numpy(seq2seq.RepeatOverTime()(c, like))
    assert repeated.shape == (2, 5, 3)
    np.testing.assert_array_equal(repeated[:, 4], c)
    symbolic = seq2seq.RepeatOverTime()(keras.Input((3,)), keras.Input((None, 7)))
    assert tuple(symbolic.shape) == (None, None, 3)
    logits = np.array([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(np.exp(seq2seq.log_softmax(logits)), [[0.5, 0.5, 0.0]])


def _echo(source_batch):
    """An 'encoder' whose states are the source ids without their left padding and a read position."""
    return [source_batch.astype(np.int64), np.zeros((len(source_batch), 1), dtype=np.int64)]


def _echo_step(tokens, states):
    """A decoder that writes its source back, character by character, then the end token."""
    source, position = states
    log_probs = np.full((len(tokens), 40), -30.0)
    next_position = position.copy()
    for row in range(len(tokens)):
        real = source[row][source[row] != PAD]
        k = int(position[row, 0])
        log_probs[row, real[k] if k < len(real) else END] = 0.0
        next_position[row, 0] = k + 1
    return log_probs, [source, next_position]


@pytest.mark.parametrize("beam_width", [1, 3])
def test_translate_keeps_the_order_of_the_sources_across_buckets(beam_width):
    sources = ["abcab", "c", "bbbbbbbbbb", "ab", "cabca"]
    vocab = TokenVocab(sources)
    edges = np.array([2, 5, 10])
    texts, decoded = seq2seq.translate(sources, vocab, vocab, _echo, _echo_step, edges=edges, max_length=15,
                                       beam_width=beam_width)
    assert texts == sources and decoded.finished.all()
    backwards, _ = seq2seq.translate(sources, vocab, vocab, _echo, _echo_step, edges=edges, max_length=15,
                                     beam_width=beam_width, reverse_source=True)
    assert backwards == [s[::-1] for s in sources]
    cut, cut_decoded = seq2seq.translate(sources, vocab, vocab, _echo, _echo_step, edges=np.array([3]),
                                         max_length=3, beam_width=beam_width)
    assert cut == [s[:3] for s in sources] and cut_decoded.finished.tolist() == [False, True, False, True, False]
    with pytest.raises(ValueError, match="no sources"):
        seq2seq.translate([], vocab, vocab, _echo, _echo_step, edges=edges, max_length=3)


def test_a_translator_is_translate_with_the_task_bound_once():
    sources = ["abcab", "c", "bbbbbbbbbb"]
    vocab = TokenVocab(sources)
    translate = seq2seq.Translator(vocab, vocab, np.array([2, 5, 10]), max_length=15)
    for options in ({}, {"beam_width": 3, "alpha": 0.5}, {"reverse_source": True}):
        expected = seq2seq.translate(sources, vocab, vocab, _echo, _echo_step, edges=np.array([2, 5, 10]),
                                     max_length=15, **options)
        got = translate(sources, _echo, _echo_step, **options)
        assert got[0] == expected[0] and np.array_equal(got[1].scores, expected[1].scores)
    assert translate(sources, _echo, _echo_step, reverse_source=True)[0] == [s[::-1] for s in sources]


def test_step_and_encode_functions_of_keras_models():
    token, state = keras.Input((1,), dtype="int32"), keras.Input((4,))
    embedded = keras.layers.Flatten()(keras.layers.Embedding(7, 4)(token))
    new_state = keras.layers.Add()([embedded, state])
    logits = keras.layers.Reshape((1, 7))(keras.layers.Dense(7)(new_state))
    step = seq2seq.step_function(keras.Model([token, state], [logits, new_state]))
    log_probs, states = step(np.array([3, 5, 1], dtype=np.int32), [np.ones((3, 4), dtype="float32")])
    assert log_probs.shape == (3, 7) and len(states) == 1 and states[0].shape == (3, 4)
    np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1.0, rtol=1e-6)
    source = keras.Input((None,), dtype="int32")
    summary = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(7, 4)(source))
    one = seq2seq.encode_function(keras.Model(source, summary))(np.array([[3, 4], [5, 6]], dtype=np.int32))
    two = seq2seq.encode_function(keras.Model(source, [summary, summary]))(np.array([[3, 4]], dtype=np.int32))
    assert [s.shape for s in one] == [(2, 4)] and [s.shape for s in two] == [(1, 4), (1, 4)]


def _tiny_encoder_decoder(source_size, target_size, units=8):
    """A GRU encoder-decoder whose training and step models share their layers."""
    source = keras.Input((None,), dtype="int32")
    decoder_input = keras.Input((None,), dtype="int32")
    summary = keras.layers.GRU(units)(keras.layers.Embedding(source_size, 4)(source))
    embedding = keras.layers.Embedding(target_size, 4)
    decoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
    output = keras.layers.Dense(target_size)

    def decode(tokens, state):
        s, last = decoder(embedding(tokens), initial_state=state)
        return output(s), last

    logits, _ = decode(decoder_input, summary)
    training = keras.Model([source, decoder_input], logits, name="tiny")
    token, state = keras.Input((1,), dtype="int32"), keras.Input((units,))
    step_logits, new_state = decode(token, state)
    return training, keras.Model(source, summary), keras.Model([token, state], [step_logits, new_state])


def test_train_and_compare_the_training_model_with_its_step_decoder(capsys):
    keras.utils.set_random_seed(0)
    sources, targets, sv, tv = _pairs(40)
    ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    batches = seq2seq.PairBatches(*ids, 8, n_buckets=2, seed=0)
    validation = seq2seq.PairBatches(*ids, 8, edges=batches.edges, shuffle=False)
    training, encoder, step = _tiny_encoder_decoder(len(sv), len(tv))
    before = seq2seq.teacher_forced_accuracy(training, validation)
    history, seconds = seq2seq.train(training, batches, validation, 3, learning_rate=1e-2)
    assert len(history["loss"]) == len(history["val_loss"]) == len(history["seconds"]) == 3 and seconds > 0
    assert 0 < history["seconds"][0] < history["seconds"][1] < history["seconds"][2] <= seconds
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert "tiny: 3 epochs" in capsys.readouterr().out
    after = seq2seq.teacher_forced_accuracy(training, validation)
    assert 0 <= before < after <= 1
    # per pair, in the pairs' order: the same share of right tokens as the batches give
    predicted = seq2seq.teacher_forced_predictions(training, ids[0], ids[1], batches.edges, batch_size=8)
    assert [len(p) for p in predicted] == [len(t) for t in ids[1]]
    right = sum(int((p == t).sum()) for p, t in zip(predicted, ids[1])) / sum(len(t) for t in ids[1])
    assert right == pytest.approx(after, abs=1.5 / sum(len(t) for t in ids[1]))  # an argmax tie may flip one token
    # decoder inputs of the targets' lengths are read instead of the true prefix
    changed = [np.concatenate([[START], np.full(len(t) - 1, t[0])]).astype(np.int32) for t in ids[1]]
    other = seq2seq.teacher_forced_predictions(training, ids[0], ids[1], batches.edges, decoder_inputs=changed)
    assert [len(p) for p in other] == [len(t) for t in ids[1]]
    changed_targets = [np.concatenate([np.full(len(t) - 1, t[0]), [END]]).astype(np.int32) for t in ids[1]]
    effect = seq2seq.swapped_prefix_effect(training, ids[0], ids[1], changed_targets, [1] * len(ids[1]), batches.edges)
    assert effect["later"].tolist() == [len(t) - 1 for t in ids[1]]
    assert np.all(effect["true prefix"] <= effect["later"]) and np.all(effect["changed prefix"] <= effect["later"])
    with pytest.raises(ValueError, match="as long as its target"):
        seq2seq.swapped_prefix_effect(training, ids[0], ids[1], [c[:-1] for c in changed_targets], [1] * len(ids[1]),
                                      batches.edges)
    with pytest.raises(ValueError, match="each as long as its target"):
        seq2seq.teacher_forced_predictions(training, ids[0], ids[1], batches.edges, decoder_inputs=[c[:-1] for c in changed])
    teacher, stepped = seq2seq.teacher_and_step_probabilities(
        training, seq2seq.encode_function(encoder), seq2seq.step_function(step), validation[0], rows=5)
    real = int((validation[0][2][:5] > 0).sum())
    assert teacher.shape == stepped.shape == (real, len(tv))
    np.testing.assert_allclose(teacher, stepped, atol=1e-5)
    with pytest.raises(ValueError, match="at least 1"):
        seq2seq.train(training, batches, validation, 0)
    (source, decoder_input), target, weights = validation[0]
    with pytest.raises(ValueError, match="no real positions"):
        seq2seq.teacher_and_step_probabilities(training, seq2seq.encode_function(encoder),
                                               seq2seq.step_function(step),
                                               ((source, decoder_input), target, np.zeros_like(weights)))


# --- a transformer decoder that rereads its prefix ---------------------------------------------------

def _tiny_transformer(source_size, target_size, depth=8):
    """A transformer encoder-decoder: the training model, the encoder (memory and source mask) and the
    decoder ``[prefix, memory, mask] -> logits`` sharing its layers."""
    from keras import layers

    from utils.models import transformer

    keras.utils.set_random_seed(1)
    source = keras.Input((None,), dtype="int32")
    source_mask = ops.cast(ops.not_equal(source, PAD), "float32")
    memory = transformer.TokenAndPosition(source_size, depth, 32, positions="sinusoidal")(source, key_mask=source_mask)
    memory = transformer.EncoderBlock(depth, 2, 16)(memory, key_mask=source_mask)
    embedding = transformer.TokenAndPosition(target_size, depth, 32, positions="learned")
    blocks = [transformer.DecoderBlock(depth, 2, 16) for _ in range(2)]
    output = layers.Dense(target_size)

    def decode(prefix, memory, mask):
        x = embedding(prefix)
        for block in blocks:
            x = block(x, memory, memory_mask=mask)
        return output(x)

    decoder_input = keras.Input((None,), dtype="int32")
    training = keras.Model([source, decoder_input], decode(decoder_input, memory, source_mask))
    rng = np.random.default_rng(2)  # weights larger than the initialisers': distributions far from flat
    training.set_weights([w + rng.normal(scale=0.5, size=w.shape) for w in training.get_weights()])
    prefix = keras.Input((None,), dtype="int32")
    memory_input, mask_input = keras.Input((None, depth)), keras.Input((None,))
    decoder = keras.Model([prefix, memory_input, mask_input], decode(prefix, memory_input, mask_input))
    return training, keras.Model(source, [memory, source_mask]), decoder


class _WidthSpy:
    """Wraps a decoder and records the prefix width of every call."""

    def __init__(self, decoder):
        self.decoder, self.widths = decoder, []

    def predict_on_batch(self, inputs):
        self.widths.append(inputs[0].shape[1])
        return self.decoder.predict_on_batch(inputs)


@pytest.fixture(scope="module")
def transformer_pairs():
    sources, targets, sv, tv = _pairs(24, seed=5)
    ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    return seq2seq.PairBatches(*ids, 6, n_buckets=2, shuffle=False), _tiny_transformer(len(sv), len(tv)), len(tv)


@pytest.mark.parametrize("block", [4, 5])
def test_stepping_a_transformer_decoder_equals_teacher_forcing(transformer_pairs, block):
    batches, (training, encoder, decoder), vocab = transformer_pairs
    batch = batches[0]
    length = batch[0][1].shape[1]
    max_length = 4 * (-(-length // 4))  # a multiple of 4; not of 5
    spy = _WidthSpy(decoder)
    teacher, stepped = seq2seq.teacher_and_step_probabilities(
        training, seq2seq.prefix_encode_function(encoder, max_length),
        seq2seq.prefix_step_function(spy, block=block), batch, rows=5)
    assert teacher.shape == stepped.shape and teacher.shape[1] == vocab and len(teacher) > 5
    assert np.abs(teacher - teacher.mean(axis=1, keepdims=True)).max() > 1e-2  # far from uniform
    np.testing.assert_allclose(stepped, teacher, atol=1e-5)
    # step t (position t) reads a prefix cut to the next multiple of block, at most the whole prefix
    assert spy.widths == [min(max_length, block * (t // block + 1)) for t in range(length)]
    assert all(width % block == 0 or width == max_length for width in spy.widths)


def test_prefix_encode_function_starts_an_empty_prefix(transformer_pairs):
    batches, (_, encoder, _), _ = transformer_pairs
    source = batches[0][0][0]
    memory, mask, written, position = seq2seq.prefix_encode_function(encoder, 7)(source)
    assert memory.shape == (*source.shape, 8) and mask.shape == source.shape
    np.testing.assert_array_equal(mask, source != PAD)
    assert written.shape == (len(source), 7) and (written == PAD).all() and written.dtype == np.int32
    assert position.shape == (len(source),) and (position == 0).all()


def test_greedy_decoding_a_transformer_rereads_the_prefix(transformer_pairs):
    from utils.decoding import search

    batches, (training, encoder, decoder), _ = transformer_pairs
    source, max_length, rows = batches[0][0][0][:5], 8, np.arange(5)
    spy = _WidthSpy(decoder)
    initial = seq2seq.prefix_encode_function(encoder, max_length)(source)
    decoded = search.greedy_decode(seq2seq.prefix_step_function(spy, block=4), initial, max_length=max_length)
    assert len(decoded.tokens) == 5 and set(spy.widths) <= {4, 8}
    # the same tokens as the training model fed its own choices (one width: the padding on the right is never
    # looked at by the causal decoder, and JAX compiles one shape)
    prefix, scores = np.full((5, max_length), PAD, dtype=np.int32), np.zeros((5, max_length))
    prefix[:, 0] = START
    for t in range(max_length):
        log_probs = seq2seq.log_softmax(np.asarray(training.predict_on_batch([source, prefix]))[:, t])
        best = np.argmax(log_probs, axis=-1)
        scores[:, t] = log_probs[rows, best]
        if t + 1 < max_length:
            prefix[:, t + 1] = best
    chosen = np.concatenate([prefix[:, 1:], best[:, None]], axis=1)
    for row in rows:
        expected = chosen[row]
        ends = np.flatnonzero(expected == END)
        kept = len(ends) and ends[0] + 1
        # greedy_decode's trimming: up to the end token, or every token but padding when there is none
        np.testing.assert_array_equal(decoded.tokens[row], expected[:kept] if kept else expected[expected != PAD])
        assert decoded.finished[row] == bool(kept)
        assert decoded.scores[row] == pytest.approx(scores[row, :kept or max_length].sum(), abs=1e-4)


def test_prefix_step_function_says_what_is_wrong(transformer_pairs):
    batches, (_, encoder, decoder), _ = transformer_pairs
    source = batches[0][0][0][:2]
    step = seq2seq.prefix_step_function(decoder, block=2)
    states = seq2seq.prefix_encode_function(encoder, 3)(source)
    tokens = np.full(2, START, dtype=np.int32)
    for _ in range(3):
        _, states = step(tokens, states)
    assert states[-1].tolist() == [3, 3] and (states[-2][:, :3] == START).all()
    with pytest.raises(ValueError, match="the prefix is full \\(3 positions\\): decode with a smaller max_length"):
        step(tokens, states)
    for block in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="block must be a whole number of at least 1"):
            seq2seq.prefix_step_function(decoder, block=block)


class _ScoresByToken:
    """A stand-in weights model: each key's score is its token id plus 1/2 (query step t scales it by t + 1),
    normalised over the keys the mask lets through - so padding (id 0) gets weight only without the mask."""

    def __init__(self):
        self.shapes = []

    def predict_on_batch(self, inputs):
        source, decoder_input, mask = (np.asarray(x) for x in inputs)
        self.shapes.append((source.shape, decoder_input.shape))
        steps = np.arange(1, decoder_input.shape[1] + 1, dtype=np.float64)[None, :, None]
        scores = (source[:, None, :] + 0.5) * steps * mask[:, None, :]
        return scores / scores.sum(axis=-1, keepdims=True)


def test_teacher_forced_weights_read_every_pair_in_its_bucket_and_keep_the_real_columns():
    sources, targets, sv, tv = _pairs(30)
    source_ids, target_ids = seq2seq.encode_pairs(sources, targets, sv, tv)
    batches = seq2seq.PairBatches(source_ids, target_ids, 8, n_buckets=3, shuffle=False)
    model = _ScoresByToken()
    maps, padded = seq2seq.teacher_forced_weights(model, source_ids, target_ids, batches.edges,
                                                  target_widths=batches.target_length)
    assert len(model.shapes) == len(np.unique(batches.bucket))  # one batch per bucket, padded as in training
    for (source_shape, input_shape), bucket in zip(model.shapes, np.unique(batches.bucket)):
        assert source_shape[1] >= batches.edges[bucket] and input_shape[1] >= batches.target_length[bucket]
    for source, target, found, (weights, real) in zip(source_ids, target_ids, maps, padded):
        alone = (source[None, :] + 0.5) * np.arange(1, len(target) + 1)[:, None]  # the pair alone, unpadded
        np.testing.assert_allclose(found, alone / alone.sum(axis=1, keepdims=True), rtol=1e-12)
        assert weights.shape == (1, len(target), real.shape[1]) and real.sum() == len(source)
    assert max(attention.padding_share(w, r) for w, r in padded) == 0.0  # the mask hides the padding
    _, unmasked = seq2seq.teacher_forced_weights(model, source_ids, target_ids, batches.edges, masked=False)
    assert max(attention.padding_share(w, r) for w, r in unmasked) > 0.0
    with pytest.raises(ValueError, match="as many targets as sources"):
        seq2seq.teacher_forced_weights(model, source_ids, target_ids[:-1], batches.edges)
