from analysis.engine.groups import connected_groups


def test_pairs_join_into_connected_groups_largest_first():
    assert connected_groups([(5, 6), (0, 1), (1, 2), (9, 2)]) == [[0, 1, 2, 9], [5, 6]]


def test_no_pairs_no_groups():
    assert connected_groups([]) == []
