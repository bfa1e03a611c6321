"""Structure-aware recursive chunking with token-bounded chunks and sentence overlap."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ragsilo.chunking._ids import make_chunk_id
from ragsilo.chunking._sentences import split_sentences
from ragsilo.errors import ConfigError
from ragsilo.models import Chunk, ParsedDocument

#: Without a ``max_chars``, a chunk holds at most this many characters per token
#: of ``size``. Ordinary text has 3 to 6 characters per token, so the bound only
#: matters for text that a tokenizer reads as very few tokens (a WordPiece
#: tokenizer turns any word over 100 characters into a single [UNK]).
CHARS_PER_TOKEN_LIMIT = 16

_PARAGRAPHS, _LINES, _SENTENCES, _WORDS = range(4)
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f\u200b\ufeff]")
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """``text`` with runs of whitespace made one space, lines stripped, and runs
    of blank lines made one paragraph break; control characters dropped."""
    paragraphs: list[str] = []
    lines: list[str] = []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", _INVISIBLE.sub("", raw)).strip()
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append("\n".join(lines))
            lines = []
    if lines:
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


@dataclass(slots=True)
class _Piece:
    """A unit of packing: its text, its token count, and the separator that
    joins it to the piece before it in the same chunk."""

    text: str
    tokens: int
    sep: str
    #: A run of whole words grouped only to save counting; packing may break it.
    words: bool = False


class RecursiveChunker:
    """Cuts documents into chunks of at most ``size`` tokens, following their structure.

    Each :class:`~ragsilo.models.Section` is chunked on its own, so a chunk
    never spans two sections and its page and heading are exact. Inside a
    section the text is split by paragraphs (blank lines), then lines, then
    sentences, then words, and only a single overlong run without spaces by
    characters, as far as needed for every piece to fit; the pieces are then
    packed greedily up to ``size`` tokens (and ``max_chars`` characters).
    Each chunk after the first of a section starts with the trailing
    sentences (else words) of the previous one, at most ``overlap`` tokens;
    the overlap shrinks or gives way where the next piece would not fit after
    it, so that a whole paragraph that fills a chunk stays whole.

    ``count_tokens`` is the embedding model's tokenizer count (without special
    tokens). It is called on pieces, and each text is counted once per call.
    Every finished chunk is counted whole once more to enforce the bound
    exactly, unless ``count_tokens`` (or the object it is a bound method of)
    has a true ``tokens_additive`` attribute, which declares that counts add
    up over texts joined by whitespace (as for a WordPiece tokenizer, see
    :class:`ragsilo.embedding.TokenCounter`).
    Output is deterministic. The chunker holds no state between calls and is
    safe to share between threads.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        size: int,
        overlap: int = 0,
        *,
        max_chars: int | None = None,
    ) -> None:
        if size < 1:
            raise ConfigError(f"chunk size must be at least 1 token, not {size}")
        if not 0 <= overlap < size:
            raise ConfigError(
                f"chunk overlap ({overlap}) must be at least 0 and smaller than the size ({size})"
            )
        if max_chars is not None and max_chars < 1:
            raise ConfigError(f"max_chars must be at least 1, not {max_chars}")
        self.count_tokens = count_tokens
        self.size = size
        self.overlap = overlap
        self.max_chars = max_chars if max_chars is not None else size * CHARS_PER_TOKEN_LIMIT

    def for_workers(self) -> RecursiveChunker:
        """This chunker, made to travel to a worker process cheaply: when ``count_tokens`` is
        an embedder's method and the embedder exposes its ``token_counter`` (a picklable
        :class:`ragsilo.embedding.TokenCounter`), the copy counts with that instead of
        dragging the model along. Counts are the same."""
        counter = getattr(getattr(self.count_tokens, "__self__", None), "token_counter", None)
        if counter is None or not callable(counter):
            return self
        return RecursiveChunker(counter, self.size, self.overlap, max_chars=self.max_chars)

    def chunk(
        self, doc: ParsedDocument, *, doc_id: str, source: str, file_sha256: str
    ) -> list[Chunk]:
        """The chunks of ``doc``, numbered 0.. across the document.

        Each chunk's ``metadata`` is the section's metadata merged over the
        document's. Sections with no text give no chunks.
        """
        run = _Run(self)
        chunks: list[Chunk] = []
        seen: dict[str, int] = {}
        for section in doc.sections:
            metadata = {**doc.metadata, **section.metadata}
            for text in run.split(normalise_text(section.text)):
                occurrence = seen.get(text, 0)
                seen[text] = occurrence + 1
                chunks.append(
                    Chunk(
                        id=make_chunk_id(doc_id, occurrence, text),
                        doc_id=doc_id,
                        source=source,
                        file_sha256=file_sha256,
                        mime_type=doc.mime_type,
                        title=doc.title,
                        page=section.page,
                        section=section.heading,
                        chunk_index=len(chunks),
                        text=text,
                        metadata=dict(metadata),
                    )
                )
        return chunks

    def split_text(self, text: str) -> list[str]:
        """The chunk texts of one section's ``text`` (normalised first)."""
        return _Run(self).split(normalise_text(text))


class _Run:
    """The work of one ``chunk`` call, with its cache of token counts."""

    def __init__(self, chunker: RecursiveChunker) -> None:
        self.count_tokens = chunker.count_tokens
        self.size = chunker.size
        self.overlap = chunker.overlap
        self.max_chars = chunker.max_chars
        # Word groups are about a quarter of a chunk of ordinary text.
        self.group_chars = max(32, chunker.size)
        self.counts: dict[str, int] = {}
        self.additive = _declares_additive(chunker.count_tokens)
        self.count_batch = _batch_counter(chunker.count_tokens)

    def prefetch(self, texts: list[str]) -> None:
        """Count the texts that will be asked about next in one batch (when the tokenizer
        offers ``count_batch``): one call instead of one per piece."""
        if self.count_batch is None:
            return
        todo = list({t: None for t in texts if len(t) <= self.max_chars and t not in self.counts})
        if len(todo) > 1:
            self.counts.update(zip(todo, self.count_batch(todo), strict=True))

    def count(self, text: str) -> int:
        n = self.counts.get(text)
        if n is None:
            n = self.counts[text] = self.count_tokens(text)
        return n

    def within(self, pieces: list[_Piece], limit: int) -> bool:
        """Whether ``pieces`` joined have at most ``limit`` tokens."""
        if self.additive and all(p.sep.isspace() for p in pieces[1:]):
            return sum(p.tokens for p in pieces) <= limit
        return self.count(_join(pieces)) <= limit

    def fits(self, text: str) -> int | None:
        """Tokens in ``text`` when it fits in one chunk, else None (without
        counting a text that is over ``max_chars`` anyway)."""
        if len(text) > self.max_chars:
            return None
        n = self.count(text)
        return n if n <= self.size else None

    def split(self, text: str) -> list[str]:
        if not text:
            return []
        pieces: list[_Piece] = []
        self._descend(text, "", _PARAGRAPHS, pieces)
        return self._pack(pieces)

    # -- splitting --------------------------------------------------------------

    def _descend(self, text: str, sep: str, level: int, out: list[_Piece]) -> None:
        n = self.fits(text)
        if n is not None:
            out.append(_Piece(text, n, sep))
            return
        while level < _WORDS:
            parts = _split_at(level, text)
            level += 1
            if len(parts) > 1:
                self.prefetch([part for _, part in parts])
                for i, (part_sep, part) in enumerate(parts):
                    self._descend(part, sep if i == 0 else part_sep, level, out)
                return
        self._split_words(text, sep, out)

    def _split_words(self, text: str, sep: str, out: list[_Piece]) -> None:
        words = text.split(" ")
        if len(words) == 1:
            self._split_chars(text, sep, out)
            return
        # Counting every word of a long run costs a tokenizer call each; count
        # groups of words instead and break a group up only where a chunk ends.
        groups: list[list[str]] = []
        group: list[str] = []
        length = 0
        for word in words:
            if group and length + 1 + len(word) > self.group_chars:
                groups.append(group)
                group, length = [], 0
            group.append(word)
            length += len(word) + (1 if length else 0)
        groups.append(group)
        self.prefetch([" ".join(g) for g in groups if len(g) > 1])
        for i, g in enumerate(groups):
            self._add_group(g, sep if i == 0 else " ", out)

    def _add_group(self, group: list[str], sep: str, out: list[_Piece]) -> None:
        if len(group) > 1:
            text = " ".join(group)
            n = self.fits(text)
            if n is not None:
                out.append(_Piece(text, n, sep, words=True))
                return
        for i, word in enumerate(group):
            self._add_word(word, sep if i == 0 else " ", out)

    def _add_word(self, word: str, sep: str, out: list[_Piece]) -> None:
        n = self.fits(word)
        if n is None:
            self._split_chars(word, sep, out)
        else:
            out.append(_Piece(word, n, sep))

    def _split_chars(self, text: str, sep: str, out: list[_Piece]) -> None:
        # Guess a window from a sample's characters per token, then halve any
        # window that is still too big.
        sample = text[: self.max_chars]
        per_token = len(sample) / max(1, self.count(sample))
        window = max(1, min(self.max_chars, int(per_token * self.size * 0.9)))
        start = 0
        while start < len(text):
            piece = text[start : start + window]
            n = self.fits(piece)
            while n is None and len(piece) > 1:
                piece = piece[: len(piece) // 2]
                n = self.fits(piece)
            if n is None:  # one character the tokenizer makes more than `size` tokens of
                n = self.count(piece)
            out.append(_Piece(piece, n, sep if start == 0 else ""))
            start += len(piece)

    # -- packing ----------------------------------------------------------------

    def _pack(self, pieces: list[_Piece]) -> list[str]:
        chunks: list[str] = []
        queue = deque(pieces)
        current: list[_Piece] = []
        fresh = 0  # pieces of `current` that are not overlap from the previous chunk
        tokens = chars = 0
        while queue or fresh:
            if queue:
                piece = queue.popleft()
                extra = len(piece.text) + (len(piece.sep) if current else 0)
                if not current or (
                    tokens + piece.tokens <= self.size and chars + extra <= self.max_chars
                ):
                    current.append(piece)
                    fresh += 1
                    tokens += piece.tokens
                    chars += extra
                    continue
                if piece.words:
                    queue.extendleft(reversed(self._word_pieces(piece)))
                    continue
                queue.appendleft(piece)
                if fresh == 0:
                    # Only overlap is waiting and the next piece does not fit
                    # after it: give up the oldest overlap first.
                    current.pop(0)
                    tokens = sum(p.tokens for p in current)
                    chars = len(_join(current))
                    continue
            text, fresh = self._finish(current, fresh, queue)
            chunks.append(text)
            if not queue:
                break
            current = self._tail(current)
            fresh = 0
            tokens = sum(p.tokens for p in current)
            chars = len(_join(current))
        return chunks

    def _finish(self, current: list[_Piece], fresh: int, queue: deque[_Piece]) -> tuple[str, int]:
        """The text of ``current`` as a chunk, after making sure it is within
        ``size`` by a count of the whole text (piece counts need not add up
        exactly): pieces that push it over go back to ``queue``."""
        while True:
            if len(current) == 1 or self.within(current, self.size):
                return _join(current), fresh
            if fresh > 1:
                queue.appendleft(current.pop())
                fresh -= 1
            else:
                current.pop(0)

    def _word_pieces(self, group: _Piece) -> list[_Piece]:
        out: list[_Piece] = []
        for i, word in enumerate(group.text.split(" ")):
            self._add_word(word, group.sep if i == 0 else " ", out)
        return out

    # -- overlap ----------------------------------------------------------------

    def _tail(self, chunk: list[_Piece]) -> list[_Piece]:
        """The trailing sentences of ``chunk`` (else its trailing words) that
        total at most ``overlap`` tokens, never the whole chunk."""
        if not self.overlap:
            return []
        # Only the last pieces can contribute: enough of them to exceed the budget.
        start, total = len(chunk), 0
        while start > 0 and total <= self.overlap:
            start -= 1
            total += chunk[start].tokens
        units = _sentence_units(_join(chunk[start:]), chunk[start].sep)
        budget = self.overlap
        taken: list[_Piece] = []
        miss: _Piece | None = None
        self.prefetch([text for _, text in units])
        for sep, text in reversed(units):
            n = self.count(text)
            if n > budget:
                miss = _Piece(text, n, sep)
                break
            taken.append(_Piece(text, n, sep))
            budget -= n
        if miss is None and start == 0 and taken:
            taken.pop()  # the tail would be the whole chunk
        if not taken and miss is not None:
            taken = self._tail_words(miss)
        taken.reverse()
        while taken and not self.within(taken, self.overlap):
            taken.pop(0)
        return taken

    def _tail_words(self, sentence: _Piece) -> list[_Piece]:
        words = sentence.text.split(" ")
        budget = self.overlap
        taken: list[_Piece] = []
        # a word is at least one token: no more than ``overlap`` of the last words are needed
        self.prefetch(words[max(1, len(words) - budget - 1) :])
        for word in reversed(words[1:]):  # never the whole sentence
            n = self.count(word)
            if n > budget:
                break
            taken.append(_Piece(word, n, " "))
            budget -= n
        return taken


def _batch_counter(count_tokens: Callable[[str], int]) -> Callable[[list[str]], list[int]] | None:
    """``count_batch`` of the counter (or of the token counter of the embedder whose method
    ``count_tokens`` is), if it has one."""
    batch = getattr(count_tokens, "count_batch", None)
    if batch is None:
        counter = getattr(getattr(count_tokens, "__self__", None), "token_counter", None)
        batch = getattr(counter, "count_batch", None)
    return batch if callable(batch) else None


def _declares_additive(count_tokens: Callable[[str], int]) -> bool:
    for holder in (count_tokens, getattr(count_tokens, "__self__", None)):
        value = getattr(holder, "tokens_additive", None)
        if value is not None:
            return value is True
    return False


def _join(pieces: list[_Piece]) -> str:
    if not pieces:
        return ""
    return pieces[0].text + "".join(p.sep + p.text for p in pieces[1:])


def _split_at(level: int, text: str) -> list[tuple[str, str]]:
    if level == _PARAGRAPHS:
        return [("\n\n", p) for p in text.split("\n\n")]
    if level == _LINES:
        return [("\n", line) for line in text.split("\n")]
    return split_sentences(text)


def _sentence_units(text: str, first_sep: str) -> list[tuple[str, str]]:
    """``text`` as ``(separator, sentence)`` pairs, the first with ``first_sep``."""
    units: list[tuple[str, str]] = []
    for p, paragraph in enumerate(text.split("\n\n")):
        for n, line in enumerate(paragraph.split("\n")):
            for s, (sep, sentence) in enumerate(split_sentences(line)):
                if s == 0:
                    sep = "\n" if n else ("\n\n" if p else first_sep)
                units.append((sep, sentence))
    return units
