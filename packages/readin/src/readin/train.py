"""Fine-tuning runners on transformers' ``Trainer``: AFQMC (classification), CMRC2018 (span extraction), WMT (seq2seq).

READIN's recipe (spec §7.2), shared by the three runners: linear schedule with warmup ratio 0.1, evaluation and a
checkpoint each epoch, the best model by dev loss at the end, lr 5e-5, 4 epochs (6 with batch 8 x grad-acc 32 in
the README command). Per task:

- **AFQMC**: ``[sentence1, sentence2]`` packed as one pair, ``truncation="longest_first"``.
- **CMRC2018**: question + context packed as one pair, ``truncation="only_second"`` with overlapping windows
  (``doc_stride``), start/end positions from the tokenizer's offsets, [CLS] when the answer is outside a window;
  prediction takes the best ``start <= end`` span (at most ``max_answer_length`` tokens) over all windows, in the
  original characters. READIN's own ``train_cmrc_bert.py`` imports a module that was never released (spec §8), so
  this is the standard SQuAD-style recipe on READIN's hyper-parameters.
- **WMT21 zh->en**: ``zh`` -> ``en`` with ``Seq2SeqTrainer`` (READIN only ran mBART50 zero-shot: batch 16, default
  ``generate`` settings; fine-tuning is the issue's addition). mBART-style tokenizers get ``src_lang`` /
  ``tgt_lang`` (``zh_CN`` / ``en_XX``) when they have them.

Train on clean data (or on :func:`readin.augment.ada_augment` output for the ADA baseline), then predict every
READIN split (:func:`predict_split`, ``readin train --predict``) and score with :mod:`readin.metrics`.

``model`` is a local checkpoint folder; :func:`tiny_bert` (classification or QA head) and :func:`tiny_seq2seq`
build random tiny models with a character vocabulary for tests and demos (no download). Needs the ``train`` extra
(torch, transformers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_core.logging import get_logger

__all__ = [
    "TrainConfig",
    "tiny_bert",
    "tiny_seq2seq",
    "char_tokenizer",
    "train_afqmc",
    "predict_afqmc",
    "train_cmrc",
    "predict_cmrc",
    "train_wmt",
    "predict_wmt",
    "train_task",
    "predict_split",
]

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
    #: CMRC: window stride over long contexts and the longest answer (tokens) considered at prediction
    doc_stride: int = 128
    max_answer_length: int = 50
    #: WMT: target length
    max_target_length: int = 128
    #: None: the GPU when there is one
    use_cpu: bool | None = None
    logging_steps: int = 50


def char_tokenizer(texts: Iterable[str], folder: str | Path) -> Any:
    """A ``BertTokenizerFast`` whose vocabulary is [PAD] [UNK] [CLS] [SEP] [MASK] + every character of ``texts``.

    The ``vocab.txt`` is written to ``folder``. transformers 5 reads it through ``vocab=``, 4.x through
    ``vocab_file=`` (5 silently keeps only the special tokens when given ``vocab_file``): both are tried and the
    result is checked.
    """
    from transformers import BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted({ch for t in texts for ch in t if not ch.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    path = folder / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    kw: dict[str, Any] = {"do_lower_case": False, "tokenize_chinese_chars": True}
    tok = BertTokenizerFast(vocab_file=str(path), **kw)
    if len(tok.get_vocab()) != len(vocab):
        tok = BertTokenizerFast(vocab=str(path), **kw)
    if len(tok.get_vocab()) != len(vocab):
        raise RuntimeError(f"{path}: the tokenizer kept {len(tok.get_vocab())} of {len(vocab)} entries")
    return tok


def tiny_bert(
    texts: Iterable[str], folder: str | Path, *, hidden: int = 32, layers: int = 2, seed: int = 0, head: str = "classification"
) -> Path:
    """Write a random tiny BERT with a character vocabulary to ``folder``.

    ``head``: ``classification`` (``BertForSequenceClassification``, 2 labels) or ``qa``
    (``BertForQuestionAnswering``, for CMRC).
    """
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertForSequenceClassification

    if head not in ("classification", "qa"):
        raise ValueError(f"head must be 'classification' or 'qa', not {head!r}")
    folder = Path(folder)
    tok = char_tokenizer(texts, folder)
    vocab = tok.get_vocab()
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
    (BertForSequenceClassification if head == "classification" else BertForQuestionAnswering)(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def tiny_seq2seq(texts: Iterable[str], folder: str | Path, *, d_model: int = 32, layers: int = 1, seed: int = 0) -> Path:
    """Write a random tiny ``BartForConditionalGeneration`` with a character-level tokenizer to ``folder`` (WMT tests)."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    chars = sorted({ch for t in texts for ch in t})
    vocab = {tok: i for i, tok in enumerate([*specials, *chars])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(seed)
    cfg = BartConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=d_model * 2,
        decoder_ffn_dim=d_model * 2,
        max_position_embeddings=256,
        pad_token_id=vocab["<pad>"],
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["</s>"],
        forced_eos_token_id=vocab["</s>"],
    )
    BartForConditionalGeneration(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _use_cpu(config: TrainConfig) -> bool:
    if config.use_cpu is not None:
        return config.use_cpu
    import torch

    return not torch.cuda.is_available()


def _training_args(config: TrainConfig, *, seq2seq: bool = False) -> Any:
    """READIN's schedule (linear, 10 % warm-up, eval + save per epoch, best by dev loss)."""
    from transformers import Seq2SeqTrainingArguments, TrainingArguments

    cls = Seq2SeqTrainingArguments if seq2seq else TrainingArguments
    return cls(
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
        use_cpu=_use_cpu(config),
        logging_steps=config.logging_steps,
        disable_tqdm=True,
    )


def _finish(trainer: Any, tok: Any, config: TrainConfig) -> dict[str, float]:
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(config.out)
    tok.save_pretrained(config.out)
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}


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
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer

    tok = AutoTokenizer.from_pretrained(model)
    net = AutoModelForSequenceClassification.from_pretrained(model, num_labels=2)
    trainer = Trainer(
        model=net,
        args=_training_args(config),
        train_dataset=_encode(tok, train, config.max_length),
        eval_dataset=_encode(tok, dev, config.max_length),
    )
    return _finish(trainer, tok, config)


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


def _device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ---- CMRC2018: span extraction -------------------------------------------------------------------------------------


def _cmrc_features(tok: Any, rows: Sequence[Mapping[str, Any]], config: TrainConfig, *, labels: bool) -> Any:
    """Tokenise question + context windows; with ``labels``, add start/end token positions of the first answer.

    Returns the tokenizer's ``BatchEncoding`` over windows (``[F, max_length]`` ids), with ``example`` (window ->
    row index) and, for labels, ``start_positions`` / ``end_positions`` (``[F]``; 0 = [CLS] when outside).
    """
    if not getattr(tok, "is_fast", False):
        raise ValueError("CMRC span extraction needs a fast tokenizer (offset mapping)")
    enc = tok(
        [r["question"] for r in rows],
        [r["context"] for r in rows],
        truncation="only_second",
        max_length=config.max_length,
        stride=min(config.doc_stride, config.max_length // 2),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    enc["example"] = list(enc.pop("overflow_to_sample_mapping"))
    if not labels:
        return enc
    starts, ends = [], []
    for f, ex in enumerate(enc["example"]):
        answers = rows[ex].get("answers") or []
        seq = enc.sequence_ids(f)
        ctx = [k for k, s in enumerate(seq) if s == 1]
        offsets = enc["offset_mapping"][f]
        if not answers or not ctx:
            starts.append(0)
            ends.append(0)
            continue
        a_start = int(answers[0]["answer_start"])
        a_end = a_start + len(answers[0]["text"])
        first, last = ctx[0], ctx[-1]
        if offsets[first][0] > a_start or offsets[last][1] < a_end:
            starts.append(0)  # the answer is not (entirely) in this window
            ends.append(0)
            continue
        s = next(k for k in ctx if offsets[k][1] > a_start)
        e = next(k for k in reversed(ctx) if offsets[k][0] < a_end)
        starts.append(s)
        ends.append(max(e, s))
    enc["start_positions"] = starts
    enc["end_positions"] = ends
    return enc


def _cmrc_dataset(tok: Any, rows: Sequence[Mapping[str, Any]], config: TrainConfig) -> Any:
    from datasets import Dataset

    enc = _cmrc_features(tok, rows, config, labels=True)
    keep = [k for k in enc if k not in ("offset_mapping", "example")]
    return Dataset.from_dict({k: enc[k] for k in keep})


def train_cmrc(
    model: str | Path, train: Sequence[Mapping[str, Any]], dev: Sequence[Mapping[str, Any]], config: TrainConfig
) -> dict[str, float]:
    """Fine-tune a QA model (``AutoModelForQuestionAnswering``) on CMRC rows; best by dev loss, saved to ``config.out``."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, Trainer

    tok = AutoTokenizer.from_pretrained(model)
    net = AutoModelForQuestionAnswering.from_pretrained(model)
    trainer = Trainer(
        model=net,
        args=_training_args(config),
        train_dataset=_cmrc_dataset(tok, train, config),
        eval_dataset=_cmrc_dataset(tok, dev, config),
    )
    return _finish(trainer, tok, config)


def predict_cmrc(
    model: str | Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 32,
    max_length: int = 512,
    doc_stride: int = 128,
    max_answer_length: int = 50,
    n_best: int = 20,
) -> list[str]:
    """The best answer span (text of the context) per row: max ``start + end`` logit with ``start <= end``."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    device = _device()
    net = AutoModelForQuestionAnswering.from_pretrained(model).to(device).eval()
    cfg = TrainConfig(out="", max_length=max_length, doc_stride=doc_stride)
    enc = _cmrc_features(tok, rows, cfg, labels=False)
    inputs = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    best: list[tuple[float, str]] = [(-float("inf"), "") for _ in rows]
    n = len(enc["input_ids"])
    with torch.no_grad():
        for i in range(0, n, batch_size):
            batch = {k: torch.tensor(enc[k][i : i + batch_size], device=device) for k in inputs}
            out = net(**batch)
            starts, ends = out.start_logits.float().cpu(), out.end_logits.float().cpu()  # [B, L]
            for b in range(starts.shape[0]):
                f = i + b
                ex = enc["example"][f]
                seq = enc.sequence_ids(f)
                offsets = enc["offset_mapping"][f]
                ctx = [k for k, s in enumerate(seq) if s == 1]
                if not ctx:
                    continue
                lo, hi = ctx[0], ctx[-1]
                s_top = [k for k in starts[b].argsort(descending=True).tolist() if lo <= k <= hi][:n_best]
                e_top = [k for k in ends[b].argsort(descending=True).tolist() if lo <= k <= hi][:n_best]
                for s in s_top:
                    for e in e_top:
                        if e < s or e - s + 1 > max_answer_length:
                            continue
                        score = float(starts[b, s] + ends[b, e])
                        if score > best[ex][0]:
                            context = rows[ex]["context"]
                            best[ex] = (score, context[offsets[s][0] : offsets[e][1]])
    return [text for _, text in best]


# ---- WMT21 zh->en: seq2seq ----------------------------------------------------------------------------------------


def _set_langs(tok: Any) -> None:
    """mBART-50 style tokenizers translate zh_CN -> en_XX (READIN's ``src_lang="zh_CN"``)."""
    vocab = tok.get_vocab()
    if hasattr(tok, "src_lang") and "zh_CN" in vocab:
        tok.src_lang = "zh_CN"
    if hasattr(tok, "tgt_lang") and "en_XX" in vocab:
        tok.tgt_lang = "en_XX"


def _wmt_dataset(tok: Any, rows: Sequence[Mapping[str, Any]], config: TrainConfig) -> Any:
    from datasets import Dataset

    enc = tok([r["zh"] for r in rows], truncation=True, max_length=config.max_length)
    labels = tok(text_target=[r["en"] for r in rows], truncation=True, max_length=config.max_target_length)["input_ids"]
    return Dataset.from_dict({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels})


def train_wmt(
    model: str | Path, train: Sequence[Mapping[str, Any]], dev: Sequence[Mapping[str, Any]], config: TrainConfig
) -> dict[str, float]:
    """Fine-tune a seq2seq model (``AutoModelForSeq2SeqLM``) on ``zh`` -> ``en``; best by dev loss, saved to ``config.out``."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer

    tok = AutoTokenizer.from_pretrained(model)
    _set_langs(tok)
    net = AutoModelForSeq2SeqLM.from_pretrained(model)
    trainer = Seq2SeqTrainer(
        model=net,
        args=_training_args(config, seq2seq=True),
        train_dataset=_wmt_dataset(tok, train, config),
        eval_dataset=_wmt_dataset(tok, dev, config),
        data_collator=DataCollatorForSeq2Seq(tok, model=net),
    )
    return _finish(trainer, tok, config)


def predict_wmt(
    model: str | Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 16,
    max_length: int = 256,
    max_new_tokens: int | None = None,
    forced_bos_token: str | None = None,
) -> list[str]:
    """Translate each row's ``zh`` (READIN: batch 16, the model's default ``generate`` settings)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    _set_langs(tok)
    device = _device()
    net = AutoModelForSeq2SeqLM.from_pretrained(model).to(device).eval()
    kwargs: dict[str, Any] = {}
    if max_new_tokens is not None:
        kwargs["max_new_tokens"] = max_new_tokens
    if forced_bos_token is not None:
        kwargs["forced_bos_token_id"] = tok.convert_tokens_to_ids(forced_bos_token)
    out: list[str] = []
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            enc = tok(
                [r["zh"] for r in rows[i : i + batch_size]],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            gen = net.generate(**enc, **kwargs)
            out += [t.strip() for t in tok.batch_decode(gen, skip_special_tokens=True)]
    return out


# ---- dispatch ----------------------------------------------------------------------------------------------------

_TRAIN = {"afqmc": train_afqmc, "cmrc": train_cmrc, "wmt": train_wmt}


def train_task(
    task: str, model: str | Path, train: Sequence[Mapping[str, Any]], dev: Sequence[Mapping[str, Any]], config: TrainConfig
) -> dict[str, float]:
    """Fine-tune on ``task`` (``afqmc``, ``cmrc`` or ``wmt``; CSpider needs a text-to-SQL parser, not provided)."""
    if task not in _TRAIN:
        raise ValueError(f"no fine-tuning runner for task {task!r}; available: {', '.join(_TRAIN)}")
    return _TRAIN[task](model, train, dev, config)


def predict_split(task: str, model: str | Path, rows: Sequence[Mapping[str, Any]], config: TrainConfig) -> list[Any]:
    """Predictions for ``rows`` in the form the task's metric reads (label int, answer text, translation)."""
    if task == "afqmc":
        return predict_afqmc(model, rows, batch_size=max(config.batch_size, 32), max_length=config.max_length)
    if task == "cmrc":
        return predict_cmrc(
            model,
            rows,
            batch_size=max(config.batch_size, 32),
            max_length=config.max_length,
            doc_stride=config.doc_stride,
            max_answer_length=config.max_answer_length,
        )
    if task == "wmt":
        return predict_wmt(model, rows, batch_size=16, max_length=config.max_length, max_new_tokens=config.max_target_length)
    raise ValueError(f"no fine-tuning runner for task {task!r}; available: {', '.join(_TRAIN)}")
