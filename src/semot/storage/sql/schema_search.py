"""Message search (docs/search.md, migration 0019; `messages.ip` is in schema.py): the
search tables, which differ per database and so are built by the migration alone:

- `message_search` (id, conv, seq, sender, ts, tokens): one document per searchable
  message, id growing (newest first = id descending, the page cursor); `tokens` is the
  space-joined token text on SQLite (the external content of the FTS5 table
  `message_fts`, unicode61 over our tokens) and a tsvector with positions on PostgreSQL
  (GIN index `ix_message_search_tokens`). Each document's tokens end with its
  conversation token (`search_text.conv_token`), so "in one of these conversations" is
  matched inside the full-text index with the keywords.

They are not in `metadata` (FTS5 and tsvector have no portable declaration):
UNMANAGED names them for the migrations-match-schema test.
"""

from __future__ import annotations

UNMANAGED_PREFIXES = ("message_search", "message_fts", "ix_message_search", "ux_message_search")
FTS_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'"
