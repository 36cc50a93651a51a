#version 330
// Soft vertical studio gradient with a vignette behind the head.
uniform vec3 u_top;
uniform vec3 u_bottom;
uniform bool u_flip;     // the picture is stored top row first
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec2 uv = u_flip ? vec2(v_uv.x, 1.0 - v_uv.y) : v_uv;
    vec3 c = mix(u_bottom, u_top, clamp(uv.y, 0.0, 1.0));
    float r = length(uv - vec2(0.5, 0.55));
    c *= 1.0 - 0.35 * smoothstep(0.3, 0.9, r);
    f_color = vec4(c, 1.0);
}
