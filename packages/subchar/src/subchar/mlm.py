"""A tiny BERT masked-LM run through the transformers ``Trainer``: proof that a SubChar tokenizer plugs into the
standard pretraining stack (``DataCollatorForLanguageModeling`` masks with its ``[MASK]``, pads with ``[PAD]``).

Needs the ``train`` extra (torch). The original pretrained with NVIDIA's BERT scripts (MLM, masked_lm_prob 0.15);
this is the same objective at toy size::

    from subchar.mlm import train_tiny_mlm
    from subchar.tokenizer import load_tokenizer
    losses = train_tiny_mlm(load_tokenizer("subchar/pinyin"), ["他是我的朋友。"] * 64, "runs/mlm", steps=10)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from subchar.tokenizer import SubCharTokenizer

__all__ = ["train_tiny_mlm"]


def train_tiny_mlm(
    tokenizer: SubCharTokenizer,
    texts: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    steps: int = 10,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 2,
    max_length: int = 64,
    batch_size: int = 8,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """Train a small ``BertForMaskedLM`` for ``steps`` steps; saves model and tokenizer to ``out_dir``.

    Returns:
        The training loss logged at every step.
    """
    try:
        import torch
        from transformers import BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling, Trainer, TrainingArguments
    except ImportError as e:
        raise ImportError(f"the masked-LM run needs torch: pip install 'subchar[train]' ({e})") from None

    torch.manual_seed(seed)
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    rows: list[dict[str, Any]] = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        max_position_embeddings=max_length,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForMaskedLM(config)
    args = TrainingArguments(
        output_dir=str(out_dir),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=seed,
        disable_tqdm=True,
    )
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed)
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
    trainer.train()
    out = Path(out_dir)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
