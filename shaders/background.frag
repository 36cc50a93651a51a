#version 330
// Soft vertical studio gradient with a vignette behind the head.
uniform vec3 u_top;
uniform vec3 u_bottom;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec3 c = mix(u_bottom, u_top, clamp(v_uv.y, 0.0, 1.0));
    float r = length(v_uv - vec2(0.5, 0.55));
    c *= 1.0 - 0.35 * smoothstep(0.3, 0.9, r);
    f_color = vec4(c, 1.0);
}
