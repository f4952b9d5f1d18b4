"""Logging in and out through the page, and what a copied cookie can do afterwards."""

from http.cookies import SimpleCookie


def test_login_page_speaks_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.get_data(as_text=True)


def test_teacher_logs_in_and_sees_home(auth, make, client):
    user = make.user("teacher", name="赵老师")
    response = auth.login(user.username)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    home = client.get("/")
    assert "赵老师" in home.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_message(auth, make):
    user = make.user("teacher")
    response = auth.login(user.username, "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_cookie_copied_before_logout_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    stolen = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
