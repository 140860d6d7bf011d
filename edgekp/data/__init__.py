"""Data: format readers, landmark schemes, head pose, pose balance, crops, augmentation, synthetic faces."""
