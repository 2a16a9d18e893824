"""Writes of the star-rating cycle; each public function is one state change."""
