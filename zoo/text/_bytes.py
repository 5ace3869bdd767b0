"""Byte-level helpers shared by the tokenizers (private).

GPT-2's byte-level BPE writes every byte as a printable character so that
vocabulary files stay readable: bytes that are printable Latin-1 characters keep
their code point, the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) are
shifted to U+0100..U+0143. HF `tokenizers` uses the same alphabet
(`pre_tokenizers.ByteLevel.alphabet()`).
"""

import tensorflow as tf

__all__ = [
    "BYTE_TOKENS",
    "byte_level_to_bytes",
    "bytes_to_byte_level",
    "utf8_byte_matrix",
]


def _byte_level_alphabet():
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("\xa1"), ord("\xac") + 1),
        *range(ord("\xae"), ord("\xff") + 1),
    ]
    mapping = {byte: chr(byte) for byte in printable}
    shift = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(256 + shift)
            shift += 1
    return mapping


BYTE_TO_CHAR = _byte_level_alphabet()
CHAR_TO_BYTE = {char: byte for byte, char in BYTE_TO_CHAR.items()}

# SentencePiece-style byte tokens, used by `CharacterTokenizer(byte_fallback=True)`.
BYTE_TOKENS = tuple(f"<0x{byte:02X}>" for byte in range(256))


def bytes_to_byte_level(data):
    """`b"\\xd0\\xbf a"` -> the printable byte-level string (GPT-2 alphabet)."""
    return "".join(BYTE_TO_CHAR[byte] for byte in data)


def byte_level_to_bytes(token):
    """Inverse of `bytes_to_byte_level`; None when `token` has a character outside the alphabet."""
    try:
        return bytes(CHAR_TO_BYTE[char] for char in token)
    except KeyError:
        return None


def utf8_byte_matrix(code_points):
    """UTF-8 bytes of each code point as int ops: (n,) int32 -> ((n, 4) bytes, (n,) lengths)."""
    cp = tf.cast(code_points, tf.int32)
    length = tf.where(cp < 0x80, 1, tf.where(cp < 0x800, 2, tf.where(cp < 0x10000, 3, 4)))
    lead_prefix = tf.gather(tf.constant([0, 0x00, 0xC0, 0xE0, 0xF0], tf.int32), length)
    lead_shift = 6 * (length - 1)
    lead = tf.bitwise.bitwise_or(lead_prefix, tf.bitwise.right_shift(cp, lead_shift))
    columns = [lead]
    for position in (1, 2, 3):
        # Continuation byte `position` holds bits shift = 6 * (length - 1 - position).
        shift = tf.maximum(6 * (length - 1 - position), 0)
        continuation = tf.bitwise.bitwise_or(
            0x80, tf.bitwise.bitwise_and(tf.bitwise.right_shift(cp, shift), 0x3F)
        )
        columns.append(continuation)
    return tf.stack(columns, axis=1), length  # (n, 4), (n,)
