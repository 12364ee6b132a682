# target/ holds hidden tests that the judge runs inside the sandbox, not this pytest.
collect_ignore_glob = ["target/*", "hostile/*"]
