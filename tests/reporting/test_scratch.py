from tests.reporting.test_margin import world  # noqa

def test_show(world):
    f = world["finance"]
    r = f.get("/api/v1/reports/case-margin/export?group_by=case&format=csv")
    print(r.headers)
    print(r.get_data(as_text=True))
    r = f.get("/api/v1/reports/case-margin/export?group_by=facility,month&format=csv")
    print(r.get_data(as_text=True))
    r = f.get("/api/v1/reports/case-margin?group_by=case")
    print(r.json["items"][0], r.json["totals"])
    r = f.get("/api/v1/reports/case-margin/export?group_by=case&format=xlsx")
    open("/tmp/i17/t.xlsx", "wb").write(r.get_data())
