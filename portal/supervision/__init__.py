"""Supervision (督导): coverage of rural teachers, principals and schools, and its gap lists."""
