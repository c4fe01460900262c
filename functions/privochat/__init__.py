"""PrivoChat: private, temporary two-person chat rooms (Lambda code)."""
