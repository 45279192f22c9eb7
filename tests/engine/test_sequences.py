"""Words and sequences: skip-gram pairs as the notes tabulate them, analogies, typed text as
tokens, next-token probabilities, text generation, sentence classification, the sequence data
sets and negative sampling."""

import numpy as np
import pytest
import torch

import resources
from engine import compile_graph
from engine.data import DataError, load_dataset, skipgram_pairs
from engine.insight import (
    DRAWING,
    PROMPT,
    TEXT,
    InsightError,
    analogy,
    class_probabilities,
    generate,
    next_token_probabilities,
    predict_kind,
    tokenize,
)
from engine.training.losses import NegativeSampling
from graphs import load_graph

SENTENCE = "The wide road shimmered in the hot sun."
# Each word of the sentence (in order) with its context words, derived by hand: window = the
# number of words taken on each side; words lowercased; 'the' appears twice and pairs twice.
NOTES_TABLE = {
    2: [("the", ["wide", "road"]),
        ("wide", ["the", "road", "shimmered"]),
        ("road", ["the", "wide", "shimmered", "in"]),
        ("shimmered", ["wide", "road", "in", "the"]),
        ("in", ["road", "shimmered", "the", "hot"]),
        ("the", ["shimmered", "in", "hot", "sun"]),
        ("hot", ["in", "the", "sun"]),
        ("sun", ["the", "hot"])],
    3: [("the", ["wide", "road", "shimmered"]),
        ("wide", ["the", "road", "shimmered", "in"]),
        ("road", ["the", "wide", "shimmered", "in", "the"]),
        ("shimmered", ["the", "wide", "road", "in", "the", "hot"]),
        ("in", ["wide", "road", "shimmered", "the", "hot", "sun"]),
        ("the", ["road", "shimmered", "in", "hot", "sun"]),
        ("hot", ["shimmered", "in", "the", "sun"]),
        ("sun", ["in", "the", "hot"])],
}


@pytest.mark.parametrize("window, count", [(2, 26), (3, 36)])
def test_skipgram_pairs_of_the_notes_sentence_are_the_notes_table(window, count):
    expected = [(centre, context) for centre, contexts in NOTES_TABLE[window] for context in contexts]
    assert skipgram_pairs(SENTENCE, window) == expected
    assert len(expected) == count


@pytest.mark.parametrize("window", [2, 3])
def test_the_skipgram_data_set_trains_on_exactly_the_pairs_of_the_table(tmp_path, window):
    path = tmp_path / "sentence.txt"
    path.write_text(SENTENCE, encoding="utf-8")
    data = load_dataset("text", path=str(path), mode="skipgram", window=window, val_fraction=0.25)
    vocabulary = data.extra["vocabulary"]
    pairs = [(vocabulary[int(x)], vocabulary[int(y)]) for x, y in zip(torch.cat([data.x_train, data.x_val]),
                                                                       torch.cat([data.y_train, data.y_val]))]
    assert sorted(pairs) == sorted(skipgram_pairs(SENTENCE, window))
    assert data.extra["unit"] == "words" and data.extra["window"] == window


def test_analogies_on_a_hand_made_embedding_find_the_word_that_completes_them():
    # axes: royal, male (+1) or female (-1), commoner; king - man + woman is queen's vector exactly
    words = ["king", "queen", "man", "woman", "apple", "prince", "princess"]
    vectors = np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 1.0], [0.0, -1.0, 1.0], [0.0, 0.0, 2.0],
                        [0.9, 1.0, 0.2], [0.9, -1.0, 0.2]])
    found = analogy(vectors, words.index("king"), words.index("man"), words.index("woman"), count=3)
    assert [words[i] for i, _ in found][:2] == ["queen", "princess"]       # king - man + woman
    assert found[0][1] == pytest.approx(1.0)
    assert not {words.index(w) for w in ("king", "man", "woman")} & {i for i, _ in found}
    found = analogy(vectors, words.index("queen"), words.index("woman"), words.index("man"), count=1)
    assert words[found[0][0]] == "king"
    with pytest.raises(InsightError, match="token 9 is not among the 7"):
        analogy(vectors, 9, 0, 1)


def test_typed_text_is_read_as_the_models_tokens_and_unknown_ones_are_named():
    alphabet = list(" abcdehlorw")
    tokens = tokenize("hello world", alphabet, "chars")
    assert "".join(alphabet[c] for c in tokens.codes) == "hello world" and tokens.unknown == ()
    with pytest.raises(InsightError, match=r"never saw these characters: 'H', '!'; it knows 11 characters: ' abcdehlorw'"):
        tokenize("Hello world!", alphabet, "chars")
    vocabulary = ["<pad>", "<unk>", "good", "the", "was", "food"]
    tokens = tokenize("The food was superb, the food was GOOD", vocabulary, "words", length=6)
    assert tokens.unknown == ("superb",)
    assert [vocabulary[c] for c in tokens.codes] == ["the", "food", "was", "<unk>", "the", "food"]
    short = tokenize("good food", vocabulary, "words", length=4)
    assert [vocabulary[c] for c in short.codes] == ["<pad>", "<pad>", "good", "food"]   # padded in front
    with pytest.raises(InsightError, match="never saw these words: 'cake'"):
        tokenize("cake", ["good", "food"], "words")


@pytest.fixture(scope="module")
def char_model():
    graph = load_graph(resources.example("char_lstm.loom"))
    torch.manual_seed(0)
    data = load_dataset("text", seq_len=32)
    return compile_graph(graph).eval(), data


def test_next_token_probabilities_cover_the_alphabet_and_read_the_last_window(char_model):
    model, data = char_model
    vocabulary = data.extra["vocabulary"]
    codes = tokenize("a loom weaves threads into cloth, and a network", vocabulary, "chars").codes
    probabilities = next_token_probabilities(model, codes, window=32)
    assert probabilities.shape == (len(vocabulary),) and probabilities.sum() == pytest.approx(1.0)
    assert np.allclose(probabilities, next_token_probabilities(model, codes[-32:], window=32))
    with pytest.raises(InsightError, match="at least one token"):
        next_token_probabilities(model, (), window=32)


def test_sampling_at_a_temperature_near_zero_is_greedy_decoding(char_model):
    model, data = char_model
    vocabulary = data.extra["vocabulary"]
    codes = tokenize("the gradient ", vocabulary, "chars").codes
    greedy = [t.code for t in generate(model, codes, vocabulary, 40, temperature=0, window=32)]
    # greedy decoding by hand: the most likely token, appended, again
    context, by_hand = list(codes), []
    for _ in range(40):
        by_hand.append(int(np.argmax(next_token_probabilities(model, context, window=32))))
        context.append(by_hand[-1])
    assert greedy == by_hand
    for seed in (0, 1, 2):
        cold = [t.code for t in generate(model, codes, vocabulary, 40, temperature=1e-5, seed=seed, window=32)]
        assert cold == greedy
    hot = [t.code for t in generate(model, codes, vocabulary, 40, temperature=1.0, seed=0, window=32)]
    assert hot == [t.code for t in generate(model, codes, vocabulary, 40, temperature=1.0, seed=0, window=32)]
    assert hot != greedy                                  # an untrained model's guesses are far from sure
    first = next(generate(model, codes, vocabulary, 1, temperature=1.0, seed=0, window=32))
    assert first.text == vocabulary[first.code] and 0 < first.probability <= 1
    with pytest.raises(InsightError, match="temperature must be between 0 and 100"):
        next(generate(model, codes, vocabulary, 5, temperature=-1))
    with pytest.raises(InsightError, match="length must be between 1 and 2000"):
        next(generate(model, codes, vocabulary, 0))


def test_predict_offers_a_prompt_for_language_models_typed_text_for_classifiers_and_a_pad_for_images():
    assert predict_kind(load_dataset("text", seq_len=32)) == PROMPT
    assert predict_kind(load_dataset("sentences")) == TEXT
    assert predict_kind(load_dataset("text", mode="skipgram")) == TEXT
    assert predict_kind(load_dataset("digits")) == DRAWING
    assert predict_kind(load_dataset("digits", as_sequence=True)) == ""
    assert predict_kind(load_dataset("waves")) == ""


def test_a_sentence_classifier_gives_class_probabilities_for_typed_text():
    data = load_dataset("sentences")
    graph = load_graph(resources.example("sentiment_lstm.loom"))
    model = compile_graph(graph).eval()
    tokens = tokenize("the soup was wonderful", data.extra["vocabulary"], "words", length=data.input_shape[0])
    probabilities = class_probabilities(model, tokens.codes)
    assert probabilities.shape == (2,) and probabilities.sum() == pytest.approx(1.0)
    with pytest.raises(InsightError, match="no sequence classifier"):
        class_probabilities(compile_graph(load_graph(resources.example("char_lstm.loom"))), range(32))


def test_labelled_sentences_pad_in_front_and_learn_their_vocabulary_from_training_texts(tmp_path):
    data = load_dataset("sentences")
    vocabulary = data.extra["vocabulary"]
    assert vocabulary[:2] == ["<pad>", "<unk>"] and data.class_names == ["negative", "positive"]
    assert data.input_shape == (10,) and data.x_train.dtype == torch.int64 and data.extra["unit"] == "words"
    assert len(data.x_train) + len(data.x_val) == 392          # 196 sentences of each label
    assert int((torch.cat([data.y_train, data.y_val]) == 1).sum()) == 196
    assert torch.all(data.x_train[:, -1] > 1)            # every text ends on a word, the padding is in front
    assert bool((data.x_val == 1).any())                 # validation holds words training never saw
    assert not bool((data.x_train == 1).any())
    path = tmp_path / "bad.tsv"
    path.write_text("label\ttext\npositive\tgood\nno tab on this line\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3: a line is a label, a tab, then the text"):
        load_dataset("sentences", path=str(path))
    path.write_text("positive\tgood\npositive\tfine\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least two labels"):
        load_dataset("sentences", path=str(path))
    with pytest.raises(DataError, match="seq_len must be between 1 and 512"):
        load_dataset("sentences", seq_len=0)


def test_wave_and_memory_sequences_have_the_shapes_of_their_tasks():
    forecast = load_dataset("waves")
    assert forecast.input_shape == (40, 1) and forecast.target_shape == (40, 1)
    assert torch.allclose(forecast.x_train[:, 1:], forecast.y_train[:, :-1])     # the target is the next value
    generate_from = load_dataset("waves", mode="generate")
    assert generate_from.input_shape == (1,) and generate_from.target_shape == (40, 1)
    memory = load_dataset("long_memory", length=30)
    assert memory.input_shape == (30, 2) and memory.num_classes == 2
    assert torch.equal((memory.x_train[:, 0, 0] > 0).long(), memory.y_train)      # the first value is the class
    assert torch.all(memory.x_train[:, 0, 1] == 1) and torch.all(memory.x_train[:, 1:, 1] == 0)
    with pytest.raises(DataError, match="mode must be forecast or generate"):
        load_dataset("waves", mode="backwards")
    with pytest.raises(DataError, match="long_memory: 1,000,000 samples of 1,000 steps are more than 20,000,000"):
        load_dataset("long_memory", n_samples=1_000_000, length=1000)
    with pytest.raises(DataError, match="waves: length must be at least 2, not 1"):
        load_dataset("waves", length=1)


def test_negative_sampling_scores_the_true_word_and_drawn_ones_through_sigmoids():
    targets = torch.tensor([0, 0, 0, 1, 2, 2])             # counts 3, 1, 2 -> drawn as 3^0.75 : 1 : 2^0.75
    loss = NegativeSampling(targets, 4, k=3)
    assert torch.allclose(loss.weights, torch.tensor([3 ** 0.75, 1.0, 2 ** 0.75, 0.0]))
    scores = torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 0, 1])
    torch.manual_seed(7)
    value = loss(scores, y)
    torch.manual_seed(7)
    drawn = torch.multinomial(loss.weights, 15, replacement=True).reshape(5, 3)
    assert not bool((drawn == 3).any())                    # a word never seen as a target is never drawn
    by_hand = 0.0
    for i in range(5):
        by_hand -= float(torch.log(torch.sigmoid(scores[i, y[i]])))
        by_hand -= sum(float(torch.log(torch.sigmoid(-scores[i, j]))) for j in drawn[i])
    assert float(value) == pytest.approx(by_hand / 5, rel=1e-5)


@pytest.mark.slow
def test_word2vec_trains_with_negative_sampling():
    from engine.training import TrainingConfig, train
    from engine.training.messages import EpochMetrics, Finished
    graph = load_graph(resources.example("word2vec_skipgram.loom"))
    config = TrainingConfig.from_dict(graph.training).replace(loss="negative_sampling", negative_samples=5, epochs=4,
                                                              device="cpu", probes=False)
    messages = list(train(graph, config))
    assert isinstance(messages[-1], Finished), messages[-1]
    losses = [m.train_loss for m in messages if isinstance(m, EpochMetrics)]
    # 6 sigmoids of scores near 0 start near 6 log 2 = 4.2 and fall as the true words score higher
    assert abs(losses[0] - 6 * np.log(2)) < 0.5 and losses[-1] < 0.8 * losses[0], losses
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
