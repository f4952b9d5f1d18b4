"""Organisation: counties, schools, classrooms, terms, bell schedules, roster import."""
