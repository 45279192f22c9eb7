"""What each training view shows and how to read it, in plain words for a student: the ? beside
the tabs and Help > Training Views show it. A tab added to the dashboard adds its entry here,
under its tab's title."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


@dataclass(frozen=True)
class ViewHelp:
    summary: str       # one sentence: what the tab will show (said while there is no run)
    reading: str       # how to read it: a few short paragraphs (rich text)


VIEWS: dict[str, ViewHelp] = {
    "Curves": ViewHelp(
        "the loss and accuracy curves appear here as the network trains.",
        "<p>The <b>loss</b> is how wrong the network is on average; training makes it smaller. The thin grey "
        "line is the loss of each group of training steps, the dots the average over each epoch (one pass "
        "over the training data), the red line the loss on <b>validation</b> data the network never trains on."
        "</p><p>Read the gap between training and validation: both falling is learning; training still "
        "falling while validation rises is <b>overfitting</b> (memorising the training data). "
        "<b>Accuracy</b> is the share of samples classified right, in %; it is shown only for runs that "
        "classify. The <b>learning rate</b> is the size of each step the optimizer takes.</p>"
        "<p>Smoothing evens out the per-step loss; the log scale helps when the loss spans powers of ten; "
        "<i>compare with</i> draws an earlier run's validation curves dashed.</p>"),
    "Gradients": ViewHelp(
        "how strongly each layer learns (its gradients) is plotted here during training.",
        "<p>A <b>gradient</b> says how much, and which way, each weight should change to lower the loss. "
        "Each line is one layer with weights: its mean |gradient| (solid) and largest (dashed), on a log "
        "scale, so each step up the axis is ten times more.</p>"
        "<p>Below 1e-6 (blue band) a layer hardly learns: its gradients <b>vanish</b>, as in deep networks "
        "with sigmoid activations. Above 1e2 (red band) they <b>explode</b> and training becomes unstable. "
        "The sentence under the plot judges the latest probe.</p>"
        "<p>With several runs (Train &gt; Run Experiment) the lower plot puts them side by side: each run's "
        "mean |gradient| by depth, first layer at the left. A line that drops towards the left is a network "
        "whose first layers barely learn.</p>"),
    "Filters": ViewHelp(
        "a convolution layer's learned filters are drawn here.",
        "<p>Each tile is one <b>filter</b> of the chosen convolution: the small pattern of weights it slides "
        "over its input. Bright weights add, dark ones subtract; each tile is scaled on its own, so compare "
        "shapes rather than brightness. First layers often learn edges and blobs.</p>"
        "<p><i>Find what they respond to</i> starts from noise and changes an input until each channel "
        "answers as strongly as it can: the pictures show what excites each channel. The caption compares "
        "that answer with the answer to plain noise.</p>"),
    "Activations": ViewHelp(
        "what each layer makes of one validation sample appears here.",
        "<p>Left: the chosen validation sample. Right: the chosen layer's output for it, one tile per "
        "channel (its <b>feature maps</b>), each scaled from its lowest to its highest value. Bright is "
        "where that channel responds.</p><p>Click a node on the canvas to choose its layer; change the "
        "sample number to see another sample. Early layers keep the picture's shape; later ones are "
        "smaller and more abstract.</p>"),
    "Histograms": ViewHelp(
        "how a layer's weights and gradients are spread is shown here.",
        "<p>Left: how many of the layer's weights have each value. Right: the same for their gradients at "
        "the latest probe.</p><p>Weights that spread out slowly as training goes are normal; all weights near "
        "zero, or a few huge ones, are a warning. Gradients all near zero mean the layer has stopped "
        "learning.</p>"),
    "Confusion": ViewHelp(
        "after each epoch, which classes the network mixes up is shown here.",
        "<p>Each row is the <b>true class</b> of validation samples, each column the class the network "
        "<b>predicted</b>; a cell counts the samples (brighter is more). A perfect network has counts only "
        "on the diagonal.</p><p>A bright cell off the diagonal is a confusion: row 8, column 1 means eights "
        "taken for ones. The bars at the right give, for each true class, the share the network gets "
        "right.</p>"),
    "Boundary": ViewHelp(
        "the decision boundary over the plane is drawn here after each epoch.",
        "<p>The data have two inputs, so every point of the plane is an input. Its colour is the class the "
        "network predicts there: strong where it is sure, faded where it is unsure. The dots are the "
        "training points in their true class's colour.</p><p>Where colours meet is the <b>decision "
        "boundary</b>. A network that learns bends it around the data; a straight line is all a network "
        "without hidden layers can draw.</p><p><i>Show validation data</i> adds the validation points as "
        "rings: points the network never trained on. Rings inside the wrong colour are its mistakes.</p>"),
    "Neurons": ViewHelp(
        "each neuron of each dense layer is drawn here as a picture over the input plane, updated as it learns.",
        "<p>The data have two inputs (x₁, x₂), so every neuron's output can be drawn over the whole plane, as "
        "in TensorFlow Playground. The first column is the inputs themselves; then one column per layer, "
        "one picture per neuron: <b>blue</b> where its output is above 0, <b>orange</b> below, pale near 0.</p>"
        "<p>The lines between columns are the <b>weights</b> (for small layers): blue for positive, orange "
        "for negative, thicker for larger. A neuron of a later layer is a weighted sum of the pictures on "
        "the lines into it, bent by its activation: watch simple straight edges in the first layer combine "
        "into curved shapes further on.</p>"),
    "Fit": ViewHelp(
        "a regression's fitted curve (one input) or predicted surface (two inputs) is drawn here after each epoch.",
        "<p>One input: the dots are the training data, the rings the validation data, the line what the "
        "network predicts for every x. A line that threads every training dot but misses the rings is "
        "<b>overfitting</b>; one too straight for the dots is <b>underfitting</b>.</p><p>Two inputs: the "
        "colour is the prediction over the plane, and each validation point is a dot in its true value's "
        "colour: a dot that stands out from its surroundings is a point the network gets wrong.</p>"),
    "Landscape": ViewHelp(
        "the loss around the current weights, with the path the optimizer took, is drawn here each epoch "
        "(turn on landscape in Training Settings).",
        "<p>A network has thousands of weights, so its loss cannot be drawn over all of them. This view "
        "takes two random directions through weight space (scaled to each filter, as Li et al. 2018 do) "
        "and draws the training loss over the plane they span, the current weights at the centre. Colour "
        "and contours: the loss, on a log scale (yellow high, dark low).</p><p>The line is the path the "
        "weights took during training, projected onto the plane. After Train &gt; Run Experiment on an "
        "experiment of optimizers, the runs share one landscape: all start at the centre and each line "
        "shows where SGD, momentum or Adam went.</p>"),
    "Outputs": ViewHelp(
        "the network's outputs beside what they should be appear here after each epoch.",
        "<p>For an autoencoder: validation pictures (top) above the network's reconstructions (bottom); "
        "the closer they look, the better it compresses and restores them.</p><p>For a regression: each "
        "dot is a validation sample, its target across and the prediction up. A perfect network puts every "
        "dot on the dashed line; R² is 1 for perfect and 0 for no better than guessing the average.</p>"),
    "Predict": ViewHelp(
        "after an epoch you can ask the trained network about a sample or your own drawing here.",
        "<p>Choose a validation sample and press <i>Predict sample</i>, or draw in the grid (for digits). "
        "The bars are the network's <b>probability</b> for each class; the tallest is its answer.</p>"
        "<p><b>Why</b>: the picture with a heat map over it (Grad-CAM on the last convolution, or the input "
        "gradient for networks without one): bright where the evidence for the predicted class lies, dark "
        "where there is none. The answer always uses the run's newest weights, named under it.</p>"),
    "Feature space": ViewHelp(
        "each epoch, how a layer sorts the validation samples is mapped here.",
        "<p>Every dot is a validation sample, coloured by its true class, placed by what the chosen layer "
        "outputs for it, squeezed to two dimensions. <b>PCA</b> keeps the two directions of largest "
        "variance; <b>t-SNE</b> (on request) keeps neighbours together, but its distances between clusters "
        "mean little.</p><p>Classes that form separate clusters are easy for the layers after it to tell "
        "apart; the silhouette score (from -1 to 1) measures that. Click a dot to see its sample.</p>"),
    "Embeddings": ViewHelp(
        "an Embedding layer's token vectors are mapped here after each epoch.",
        "<p>An <b>embedding</b> gives every token (a word or a character) a vector of numbers that training "
        "adjusts. The map shows the vectors squeezed to two dimensions (PCA), each labelled with its "
        "token.</p><p>Type a token to list its nearest neighbours by cosine similarity (1 is the same "
        "direction): after training, tokens used alike end up close.</p><p>Below it, an <b>analogy</b>: type "
        "three tokens a, b, c for a - b + c (king - man + woman); the tokens whose vectors point nearest that "
        "sum are listed, the three typed left out. It takes a large text for analogies to come out right; "
        "on a small one, read them as what the vectors have learned so far.</p>"),
    "Skip-gram pairs": ViewHelp(
        "the word pairs word2vec trains on are listed here for a sentence you type.",
        "<p><b>Skip-gram</b> (word2vec) learns a vector per word by showing the network one word and asking "
        "for the words around it. The <b>window</b> is how many words on each side count as context. The "
        "table lists, for each word of the sentence, its context words and the (word, context) pairs "
        "training takes from them: the pairs the word2vec data set makes of its text.</p><p>A larger window "
        "gives more pairs and vectors that capture topic more than grammar. <b>Negative sampling</b> (the "
        "negative_sampling loss) trains on each true pair against a few words drawn at random rather than "
        "scoring the whole vocabulary.</p>"),
    "Attention": ViewHelp(
        "the attention weights of each head are drawn here with the run's probes.",
        "<p>One heat map per attention <b>head</b>, for the chosen validation sample. Row i shows how much "
        "position i attends to (takes information from) each position; every row sums to 1.</p>"
        "<p>A bright diagonal means positions mostly look at themselves; bright columns are positions "
        "every other one looks at. Uniform colour means the head has not learned to pick anything out "
        "yet.</p>"),
    "Through time": ViewHelp(
        "a recurrent layer (RNN, LSTM, GRU) unrolled over one sample appears here with the run's probes.",
        "<p>A recurrent layer reads a sequence one <b>step</b> at a time and carries a <b>hidden state</b> "
        "from each step to the next. Here it is <b>unrolled</b>: one column per step, labelled with what "
        "the step reads (a character, a word, a value), one row per unit of the hidden state, blue for -1 "
        "and red for +1. Choose the sample above: a running run unrolls it from its next "
        "probe on, an ended one at once with its newest weights.</p>"
        "<p>An <b>LSTM</b> has gates that decide, at each step and for each unit, how much to let in "
        "(input), to keep of the cell (forget) and to show (output), between 0 (closed, dark) and 1 (open, "
        "bright). A <b>GRU</b> has a reset and an update gate. A forget gate near 1 keeps a memory for many "
        "steps.</p><p>The lowest plot is <b>back-propagation through time</b>: how much of the loss's "
        "gradient reaches the hidden state at each step, on a log scale. In a plain RNN it shrinks by a "
        "factor at each step back (it <b>vanishes</b>), so early steps barely learn; an LSTM's cell lets it "
        "through. After Train &gt; Run Experiment (RNN vs LSTM) each run's median profile is drawn. "
        "<b>Gradient clipping</b> (a training setting) scales down any gradient above a norm, against "
        "exploding gradients; the line at the bottom says how often it cut. <b>Truncated</b> back-propagation "
        "(truncate_bptt) stops the gradient every k steps.</p><p>Click a step (or set it above) for the "
        "line that says everything it holds.</p>"),
    "Style": ViewHelp(
        "neural style transfer paints a picture in another's style with this graph's convolutions.",
        "<p>The picture at the right starts as the content picture and is changed, step by step, so that "
        "its deep feature maps (the <i>content layers</i>) stay like the content picture's while the "
        "correlations between channels (the Gram matrices of the <i>style layers</i>) become like the "
        "style picture's.</p><p>A larger style weight gives more style and less content. It works best "
        "with VGG-16's ImageNet weights; without them the colours carry over but not the brush "
        "strokes.</p>"),
}


def summary(title: str) -> str:
    entry = VIEWS.get(title)
    return entry.summary if entry is not None else "this view fills in as the network trains."


def reading(title: str) -> str:
    """How to read the view: its help text (rich text)."""
    entry = VIEWS.get(title)
    return entry.reading if entry is not None else f"<p>{title}: {summary(title)}</p>"


class ViewHelpDialog(QDialog):
    """The help of one view at a time, beside the window (not modal: the view stays usable)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Tool)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(520, 360)
        self.title = ""

    def show_view(self, title: str) -> None:
        self.title = title
        self.setWindowTitle(f"How to read {title}")
        self.text.setHtml(f"<h3>{title}</h3><p><i>{summary(title)[0].upper()}{summary(title)[1:]}</i></p>"
                          f"{reading(title)}")
        self.show()
        self.raise_()
