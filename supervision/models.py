"""Supervision visits (督导) of liaison branches (联系点) and stage applications (基础 → 特色 → 示范)."""
