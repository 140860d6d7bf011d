"""Data: format readers, landmark schemes, head pose (and its check against labelled yaw), pose balance,
crops, augmentation, synthetic faces."""
