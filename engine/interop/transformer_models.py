"""Hugging Face ``transformers`` models from tiny configurations: no download, random weights.

``transformers:NAME`` on the command line (``python main.py import transformers:bert out.loom``)
builds one of these: the architecture of the named family at a size that imports and trains in
moments (hidden size 32, 2 layers, 2 heads, a vocabulary of 100), with an example input of one
sequence of 8 token ids (or a 32x32 image, 400 audio samples, 8x32 mel features). Needs the
optional ``zoo`` extra (``pip install 'netloom[zoo]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

SEQUENCE = 8
_TEXT = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
             max_position_embeddings=64)
_DECODER = dict(_TEXT, num_key_value_heads=1, use_cache=False)
_VISION = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, image_size=32,
               patch_size=8)


def _tokens() -> tuple[torch.Tensor, ...]:
    return (torch.randint(1, _TEXT["vocab_size"], (1, SEQUENCE)),)


def _image() -> tuple[torch.Tensor, ...]:
    return (torch.randn(1, 3, 32, 32),)


def _build(config: str, model: str, examples: Callable[[], tuple], **settings: Any):
    def make() -> tuple[nn.Module, tuple]:
        import transformers
        module = getattr(transformers, model)(getattr(transformers, config)(**settings))
        return module, examples()
    return make


def _whisper_encoder() -> tuple[nn.Module, tuple]:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder
    config = WhisperConfig(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=37, num_mel_bins=8,
                           max_source_positions=16, vocab_size=100, pad_token_id=0, bos_token_id=0, eos_token_id=0,
                           decoder_start_token_id=0)
    return WhisperEncoder(config), (torch.randn(1, 8, 32),)


# name -> (what it is, how to build it with an example input)
MODELS: dict[str, tuple[str, Callable[[], tuple[nn.Module, tuple]]]] = {
    "bert": ("BERT encoder", _build("BertConfig", "BertModel", _tokens, **_TEXT)),
    "bert-classifier": ("BERT with a sequence classification head",
                        _build("BertConfig", "BertForSequenceClassification", _tokens, **_TEXT)),
    "distilbert": ("DistilBERT encoder", _build("DistilBertConfig", "DistilBertModel", _tokens, vocab_size=100, dim=32,
                                                n_layers=2, n_heads=2, hidden_dim=37, max_position_embeddings=64)),
    "roberta": ("RoBERTa encoder", _build("RobertaConfig", "RobertaModel", _tokens, **_TEXT)),
    "gpt2": ("GPT-2 decoder (causal mask)", _build("GPT2Config", "GPT2Model", _tokens, vocab_size=100, n_embd=32,
                                                   n_layer=2, n_head=2, n_positions=64, use_cache=False,
                                                   bos_token_id=0, eos_token_id=0)),
    "llama": ("Llama decoder (causal mask, rotary positions, grouped-query attention)",
              _build("LlamaConfig", "LlamaModel", _tokens, **_DECODER)),
    "llama-lm": ("Llama with its language-model head", _build("LlamaConfig", "LlamaForCausalLM", _tokens, **_DECODER)),
    "mistral": ("Mistral decoder", _build("MistralConfig", "MistralModel", _tokens, **_DECODER)),
    "qwen2": ("Qwen2 decoder", _build("Qwen2Config", "Qwen2Model", _tokens, **_DECODER)),
    "vit": ("Vision Transformer", _build("ViTConfig", "ViTModel", _image, **_VISION)),
    "vit-classifier": ("Vision Transformer with its classification head",
                       _build("ViTConfig", "ViTForImageClassification", _image, **_VISION)),
    "t5-encoder": ("T5 encoder (relative position bias)", _build("T5Config", "T5EncoderModel", _tokens, vocab_size=100,
                                                                 d_model=32, d_kv=16, d_ff=37, num_layers=2,
                                                                 num_heads=2)),
    "clip-vision": ("CLIP vision encoder", _build("CLIPVisionConfig", "CLIPVisionModel", _image, **_VISION)),
    # LayerDrop and SpecAugment masking draw random numbers outside any layer while training
    # (Python's and NumPy's), which no graph can follow: this configuration turns them off.
    "wav2vec2": ("Wav2Vec2 speech encoder (no LayerDrop, no SpecAugment)",
                 _build("Wav2Vec2Config", "Wav2Vec2Model", lambda: (torch.randn(1, 400),), hidden_size=32,
                        num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, conv_dim=(16, 16),
                        conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                        num_conv_pos_embedding_groups=2, layerdrop=0.0, mask_time_prob=0.0)),
    "whisper-encoder": ("Whisper audio encoder", _whisper_encoder),
}


def tiny_transformer(name: str) -> tuple[nn.Module, tuple]:
    """``name``'s module (random weights) and an example input; ValueError names what there is."""
    if name not in MODELS:
        raise ValueError(f"no tiny transformers model {name!r}; there are {', '.join(MODELS)}")
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise ValueError("transformers is not installed: pip install 'netloom[zoo]'") from None
    torch.manual_seed(0)
    return MODELS[name][1]()
