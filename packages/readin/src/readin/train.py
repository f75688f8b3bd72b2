"""Fine-tuning runner for AFQMC (sentence-pair classification) on transformers' ``Trainer`` (spec §7.2).

READIN's recipe: ``[sentence1, sentence2]`` packed as one pair, ``truncation="longest_first"``, linear schedule with
warmup ratio 0.1, evaluation and a checkpoint each epoch, the best model by dev loss at the end; lr 5e-5, 4 epochs
(6 with batch 8 x grad-acc 32 in the README command). Train on clean data (or on :func:`readin.augment.ada_augment`
output for the ADA baseline), then predict every READIN split and score with :mod:`readin.metrics`.

``model`` is a local checkpoint folder; :func:`tiny_bert` builds a random tiny BERT with a character vocabulary
for tests and demos (no download). Needs the ``train`` extra (torch, transformers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_core.logging import get_logger

__all__ = ["TrainConfig", "tiny_bert", "train_afqmc", "predict_afqmc"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class TrainConfig:
    """AFQMC fine-tuning settings (defaults: READIN's script)."""

    out: str
    epochs: float = 4.0
    lr: float = 5e-5
    batch_size: int = 8
    grad_acc: int = 1
    max_length: int = 128
    warmup_ratio: float = 0.1
    seed: int = 0
    max_steps: int = -1


def tiny_bert(texts: Iterable[str], folder: str | Path, *, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Write a random tiny ``BertForSequenceClassification`` (2 labels) with a character vocabulary to ``folder``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted({ch for t in texts for ch in t if not ch.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=256,
        num_labels=2,
    )
    BertForSequenceClassification(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _encode(tok: Any, rows: Sequence[Mapping[str, Any]], max_length: int) -> Any:
    from datasets import Dataset

    enc = tok(
        [r["sentence1"] for r in rows],
        [r["sentence2"] for r in rows],
        truncation="longest_first",
        max_length=max_length,
        padding="max_length",
    )
    data = dict(enc)
    if all("label" in r for r in rows):
        data["labels"] = [int(r["label"]) for r in rows]
    return Dataset.from_dict(data)


def train_afqmc(
    model: str | Path, train: Sequence[Mapping[str, Any]], dev: Sequence[Mapping[str, Any]], config: TrainConfig
) -> dict[str, float]:
    """Fine-tune ``model`` on ``train``, select by ``dev`` loss, save the best to ``config.out``; returns dev metrics."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    tok = AutoTokenizer.from_pretrained(model)
    net = AutoModelForSequenceClassification.from_pretrained(model, num_labels=2)
    args = TrainingArguments(
        output_dir=config.out,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.lr,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_acc,
        warmup_steps=config.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        save_total_limit=1,
        seed=config.seed,
        report_to=[],
        use_cpu=True,
        logging_steps=50,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=net,
        args=args,
        train_dataset=_encode(tok, train, config.max_length),
        eval_dataset=_encode(tok, dev, config.max_length),
    )
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(config.out)
    tok.save_pretrained(config.out)
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}


def predict_afqmc(
    model: str | Path, rows: Sequence[Mapping[str, Any]], *, batch_size: int = 32, max_length: int = 128
) -> list[int]:
    """Argmax labels for ``rows`` (``[N]``), READIN's ``preds.txt`` content."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    net = AutoModelForSequenceClassification.from_pretrained(model).eval()
    out: list[int] = []
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            batch = rows[i : i + batch_size]
            enc = tok(
                [r["sentence1"] for r in batch],
                [r["sentence2"] for r in batch],
                truncation="longest_first",
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            )
            out += net(**enc).logits.argmax(-1).tolist()
    return out
