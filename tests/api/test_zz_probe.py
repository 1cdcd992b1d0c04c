def test_probe(api_client, member, password, db):
    for i in range(7):
        r = api_client.post("/api/v1/auth/token/", {"login": "amina", "password": "nope"}, format="json")
        print("badpw", r.status_code, r["Content-Type"], r.content[:200])
    r = api_client.post("/api/v1/auth/token/", {"login": "amina", "password": password}, format="json")
    print("ok", r.status_code, r["Content-Type"], r.content[:300])
