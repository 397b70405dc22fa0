def test_it_serves_the_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"find_duplicates" in response.content
