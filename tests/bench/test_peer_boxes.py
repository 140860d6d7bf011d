"""dlib's fallback face rectangle on faces with unlabelled points (MERL-RAV v=0 points are NaN)."""

import numpy as np

from edgekp.bench.peers import landmark_boxes


def test_landmark_boxes_ignore_unlabelled_points():
    points = np.array(
        [[[10.0, 20.0], [np.nan, np.nan], [30.0, 5.0], [25.0, 40.0]], [[1.0, 2.0], [3.0, 4.0], [2.0, 8.0], [0.5, 3.0]]]
    )
    boxes = landmark_boxes(points)
    assert boxes.shape == (2, 4)
    assert np.isfinite(boxes).all()
    np.testing.assert_allclose(boxes[0], [10.0, 5.0, 30.0, 40.0])
    np.testing.assert_allclose(boxes[1], [0.5, 2.0, 3.0, 8.0])
