B
loop_stepsJ$h1?D¼È¿Í¿ıq?G'À+.ÀOd©?ú0jÀo9À