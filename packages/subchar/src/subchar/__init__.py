"""subchar: sub-character Chinese tokenizers (SubChar, Si et al., TACL 2023) built from permissively licensed tables.

Modules: ``symbols`` (separator, shifts, escapes, tone marks), ``tables`` (code tables, shipped and user-supplied),
``sources`` (rebuilding the shipped tables from pypinyin, pywubi, Unihan and pycorrector), ``encoder`` (the one
transliteration function, decoding, character offsets), ``corpus`` (streaming multiprocess corpus conversion),
``train`` (SentencePiece training), ``tokenizer`` (the transformers tokenizer), ``cws`` (word + sub-character
vocabularies), ``noise`` (homophone/homograph typos), ``evaluate`` (lengths, robustness, throughput),
``assets`` (the shipped tokenizers), ``cli`` (the ``subchar`` script).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("subchar")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
