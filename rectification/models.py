"""Rectification tasks (整改任务): requirement, owner, deadline, source, progress reports and acceptance."""
